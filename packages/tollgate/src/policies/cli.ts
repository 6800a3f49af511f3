import { readFileSync } from 'node:fs';
import { PolicyFileError } from './errors.ts';
import { loadPolicies } from './load.ts';
import { configOverrides } from './overrides.ts';

/** Where the command writes, and what it reads besides its arguments. */
export interface CommandIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
}

const usage = `Usage: tollgate policies <file> [--config <json file>]

Checks a policy file (YAML, or JSON when it ends in .json) without starting anything and
prints its effective policies as Markdown. Values for configuration keys come from the
--config JSON file and from the environment (limits.votePerMin <= LIMITS_VOTE_PER_MIN),
the environment winning. Exit status: 0 valid, 1 invalid, 2 usage.
`;

/**
 * `tollgate <command> …`: today one command, `policies`. Returns the exit status: 0 when the
 * file is valid (its tables printed), 1 when it is not (every problem printed), 2 for a usage
 * mistake.
 */
export function runCommand(args: readonly string[], io: CommandIo): number {
  if (args[0] === '--help' || args[0] === '-h' || args[0] === 'help') {
    io.stdout(usage);
    return 0;
  }
  if (args[0] !== 'policies')
    return usageError(io, args[0] === undefined ? 'no command given' : `unknown command "${args[0]}"`);
  let file: string | undefined;
  let configFile: string | undefined;
  for (let index = 1; index < args.length; index++) {
    const arg = args[index]!;
    if (arg === '--config') {
      configFile = args[++index];
      if (configFile === undefined) return usageError(io, '--config needs a JSON file');
    } else if (arg.startsWith('--config=')) {
      configFile = arg.slice('--config='.length);
    } else if (arg.startsWith('-') || file !== undefined) {
      return usageError(io, `unexpected argument "${arg}"`);
    } else {
      file = arg;
    }
  }
  if (file === undefined) return usageError(io, 'no policy file given');
  try {
    const config = configFile === undefined ? {} : readConfig(configFile);
    const document = loadPolicies(
      { path: file },
      { overrides: (keys) => configOverrides({ keys, env: io.env, config }) },
    );
    io.stdout(document.markdown());
    return 0;
  } catch (error) {
    if (!(error instanceof PolicyFileError)) throw error;
    io.stderr(`${error.message}\n`);
    return 1;
  }
}

function readConfig(path: string): object {
  const problem = (message: string, fix: string) =>
    new PolicyFileError([{ path: '', message, fix }], { source: `configuration ${path}` });
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw problem(
      `cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'}).`,
      'Check the path given to --config.',
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw problem(`is not valid JSON: ${(error as Error).message}.`, 'Fix the JSON syntax.');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw problem('must be a JSON object.', 'Write { "limits": { "votePerMin": 50 } }.');
  }
  return value;
}

function usageError(io: CommandIo, message: string): number {
  io.stderr(`tollgate: ${message}\n\n${usage}`);
  return 2;
}
