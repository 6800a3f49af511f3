import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { PolicyDocument } from './document.ts';
import { PolicyFileError } from './errors.ts';
import { configKeysOf } from './limit-rows.ts';
import { type Path, Reader } from './reader.ts';
import { effectiveLimits, readPolicyRows } from './validate.ts';

/** Where a policy file is: a path (`.json` is JSON, anything else YAML), or its text. */
export type PolicySource =
  | { readonly path: string }
  | { readonly text: string; readonly format?: 'yaml' | 'json' };

/** Options of {@link loadPolicies}. */
export interface LoadOptions {
  /**
   * Values of configuration keys (`limits.votePerMin`), each replacing the `limit` of the rows
   * naming that `configKey`; or a function of the file's keys returning them (see
   * `configOverrides`).
   * @default {}
   */
  readonly overrides?:
    | Readonly<Record<string, number>>
    | ((configKeys: readonly string[]) => Readonly<Record<string, number>>);
}

/**
 * Reads, validates and resolves a policy file, once, at start.
 * @throws {PolicyFileError} listing every problem of the file (and of the configuration
 * values), each with its path in the file and what to write instead.
 * @example
 * const policies = loadPolicies({ path: 'policies.yaml' });
 * app.post('/api/votes', { config: { tollgate: policies.routeOptions('POST', '/api/votes') } }, vote);
 */
export function loadPolicies(source: PolicySource, options: LoadOptions = {}): PolicyDocument {
  const name = 'path' in source ? source.path : undefined;
  const text = 'path' in source ? readSource(source.path) : source.text;
  const json = 'path' in source ? extname(source.path).toLowerCase() === '.json' : source.format === 'json';
  const parsed = json ? parseJson(text, name) : parseYaml(text, name);
  const reader = new Reader(parsed.lineOf);
  const rows = readPolicyRows(reader, parsed.value);
  if (rows === undefined) throw new PolicyFileError(reader.problems, { source: name });
  let overrides: Readonly<Record<string, number>> = {};
  try {
    overrides =
      typeof options.overrides === 'function'
        ? options.overrides(configKeysOf(rows.limits))
        : (options.overrides ?? {});
  } catch (error) {
    if (!(error instanceof PolicyFileError)) throw error;
    reader.problems.push(...error.errors);
  }
  const limits = effectiveLimits(reader, rows.limits, overrides);
  if (reader.problems.length > 0) throw new PolicyFileError(reader.problems, { source: name });
  return new PolicyDocument(rows, limits);
}

function readSource(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    const problem = {
      path: '',
      message: `cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'}).`,
      fix: 'Check the path.',
    };
    throw new PolicyFileError([problem], { source: path, cause: error });
  }
}

interface Parsed {
  readonly value: unknown;
  readonly lineOf: (path: Path) => number | undefined;
}

function parseJson(text: string, name: string | undefined): Parsed {
  try {
    return { value: JSON.parse(text), lineOf: () => undefined };
  } catch (error) {
    const problem = {
      path: '',
      message: `is not valid JSON: ${(error as Error).message}.`,
      fix: 'Fix the JSON syntax.',
    };
    throw new PolicyFileError([problem], { source: name, cause: error });
  }
}

function parseYaml(text: string, name: string | undefined): Parsed {
  const lines = new LineCounter();
  const document = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  if (document.errors.length > 0) {
    const problems = document.errors.map((error) => ({
      path: '',
      line: lines.linePos(error.pos[0]).line,
      message: `is not valid YAML: ${error.message.split('\n')[0]}.`,
      fix: 'Fix the YAML syntax (indentation, quotes, one key per line).',
    }));
    throw new PolicyFileError(problems, { source: name });
  }
  const lineOf = (path: Path) => {
    // The value's node, or for a member that is not there, its mapping's.
    for (let depth = path.length; depth >= 0; depth--) {
      const node = document.getIn(path.slice(0, depth), true) as
        | { range?: [number, number, number] }
        | undefined;
      if (node?.range !== undefined) return lines.linePos(node.range[0]).line;
      // A misspelt member has no value node under its own name only when its value is null.
      if (depth === path.length && path.length > 0) {
        const parent = document.getIn(path.slice(0, -1), true) as
          | { items?: { key?: { value?: unknown; range?: [number, number, number] } }[] }
          | undefined;
        const pair = parent?.items?.find((item) => item.key?.value === path.at(-1));
        if (pair?.key?.range !== undefined) return lines.linePos(pair.key.range[0]).line;
      }
    }
    return undefined;
  };
  return { value: document.toJS(), lineOf };
}
