import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { configOverrides, loadPolicies, type PolicyDocument, PolicyFileError } from 'tollgate/policies';

/** The service's policy file: seed 000's two tables. */
export const POLICY_FILE = fileURLToPath(new URL('../policies.yaml', import.meta.url));

/** Where configuration values for the file's keys (`limits.votePerMin`) come from. */
export interface PolicySettings {
  /** The environment: `LIMITS_VOTE_PER_MIN` sets `limits.votePerMin` and wins over the file. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** A JSON configuration file, `{ "limits": { "votePerMin": 50 } }` (`STREAMER_CONFIG`). */
  readonly configFile: string | undefined;
}

/**
 * `policies.yaml`, validated, with the configured values in force.
 * @throws {PolicyFileError} listing every problem of the file and of the values.
 */
export function loadStreamerPolicies(settings: PolicySettings): PolicyDocument {
  const config = settings.configFile === undefined ? {} : readConfigFile(settings.configFile);
  return loadPolicies(
    { path: POLICY_FILE },
    {
      overrides: (keys) => {
        if (settings.configFile !== undefined) refuseUnknown(settings.configFile, config, keys);
        return configOverrides({ keys, env: settings.env, config });
      },
    },
  );
}

/**
 * A value of the configuration file that sets no key of the policy file is a typo
 * (`votePerMinute`) that would leave the limit it meant at its default: refused, naming it.
 */
function refuseUnknown(path: string, config: object, keys: readonly string[]): void {
  const unknown = leaves(config).filter((leaf) => !keys.includes(leaf));
  if (unknown.length === 0) return;
  throw new PolicyFileError(
    unknown.map((leaf) => ({
      path: leaf,
      message: `(STREAMER_CONFIG ${path}) sets no configuration key of the policy file (${keys.join(', ')}).`,
      fix: 'Correct its name, or remove it.',
    })),
    { source: `STREAMER_CONFIG ${path}` },
  );
}

/** The dotted paths of an object's values that are not objects themselves. */
function leaves(value: object, prefix = ''): string[] {
  return Object.entries(value).flatMap(([name, member]) =>
    member !== null && typeof member === 'object' && !Array.isArray(member)
      ? leaves(member, `${prefix}${name}.`)
      : [`${prefix}${name}`],
  );
}

function readConfigFile(path: string): object {
  try {
    const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'));
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed;
    throw new Error('expected a JSON object such as { "limits": { "votePerMin": 50 } }');
  } catch (error) {
    const problem = {
      path: '',
      message: `cannot be used: ${(error as Error).message}`,
      fix: 'Check the file.',
    };
    throw new PolicyFileError([problem], { source: `STREAMER_CONFIG ${path}`, cause: error });
  }
}
