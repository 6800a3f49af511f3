import { ErrorCode } from '../codes.ts';
import { TollgateError } from '../errors.ts';

/** One problem in a policy file: where it is, what is wrong, and what to write instead. */
export interface PolicyProblem {
  /** The path in the file, e.g. `limits[2].window`; `''` for the document itself. */
  readonly path: string;
  /** The 1-based line of the value in a YAML file, when known. */
  readonly line?: number;
  /** What is wrong. */
  readonly message: string;
  /** What to write instead. */
  readonly fix: string;
}

/** One problem as a line of text: `limits[2].window (line 14): … Write …`. */
export function describeProblem(problem: PolicyProblem): string {
  const where = problem.path === '' ? '(document)' : problem.path;
  const line = problem.line === undefined ? '' : ` (line ${problem.line})`;
  return `${where}${line}: ${problem.message} ${problem.fix}`;
}

/**
 * A policy file (or the configuration values over it) that cannot be used. `errors` lists
 * every problem found, not only the first; the message lists them all, one per line.
 */
export class PolicyFileError extends TollgateError {
  override readonly name = 'PolicyFileError';

  constructor(
    readonly errors: readonly PolicyProblem[],
    options?: { source?: string; cause?: unknown },
  ) {
    const from = options?.source === undefined ? 'policy file' : `policy file ${options.source}`;
    const count = errors.length === 1 ? '1 problem' : `${errors.length} problems`;
    super(
      ErrorCode.PolicyFile,
      `${from}: ${count}\n${errors.map((problem) => `  - ${describeProblem(problem)}`).join('\n')}`,
      options,
    );
  }
}
