import { valueAt } from '../dotted-path.ts';
import { PolicyFileError, type PolicyProblem } from './errors.ts';

/** Where configuration values come from. */
export interface ConfigSources {
  /** The configuration keys to look up, e.g. `document.configKeys()`. */
  readonly keys: readonly string[];
  /** The environment; `limits.votePerMin` is read from `LIMITS_VOTE_PER_MIN`. @default {} */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** A nested configuration object: `{ limits: { votePerMin: 50 } }`. @default {} */
  readonly config?: object;
}

/** The environment variable of a configuration key: `limits.votePerMin` → `LIMITS_VOTE_PER_MIN`. */
export function envNameOf(key: string): string {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replaceAll('.', '_')
    .toUpperCase();
}

/**
 * The values set for `keys`, from the environment over the configuration object. Keys set in
 * neither are left out (the file's limit holds).
 * @throws {PolicyFileError} naming every key whose value is not a whole number ≥ 1.
 * @example
 * loadPolicies({ path: 'policies.yaml' }, {
 *   overrides: (keys) => configOverrides({ keys, env: process.env, config }),
 * });
 */
export function configOverrides(sources: ConfigSources): Record<string, number> {
  const values: Record<string, number> = {};
  const problems: PolicyProblem[] = [];
  for (const key of sources.keys) {
    const name = envNameOf(key);
    const fromEnv = sources.env?.[name];
    if (fromEnv !== undefined && fromEnv !== '') {
      const value = /^\s*[0-9]+\s*$/.test(fromEnv) ? Number(fromEnv) : Number.NaN;
      if (Number.isSafeInteger(value) && value >= 1) values[key] = value;
      else problems.push(badValue(name, key, JSON.stringify(fromEnv), `environment variable ${name}`));
      continue;
    }
    const fromConfig = valueAt(sources.config, key);
    if (fromConfig === undefined) continue;
    if (typeof fromConfig === 'number' && Number.isSafeInteger(fromConfig) && fromConfig >= 1)
      values[key] = fromConfig;
    else
      problems.push(
        badValue(key, key, JSON.stringify(fromConfig) ?? String(fromConfig), 'configuration value'),
      );
  }
  if (problems.length > 0) throw new PolicyFileError(problems, { source: 'configuration' });
  return values;
}

function badValue(path: string, key: string, shown: string, what: string): PolicyProblem {
  return {
    path,
    message: `the ${what} for ${key} must be a whole number of at least 1, not ${shown}.`,
    fix: `Set it to a whole number such as 30, or remove it to keep the file's limit.`,
  };
}
