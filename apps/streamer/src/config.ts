import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { LIMIT_KEYS, type LimitKey } from './policies.ts';

/**
 * Every environment setting of the service, declared once: its default and how its text is
 * read. The limits of `policies.yaml` are set apart, by configuration key (see {@link Config.limits}).
 */
const settings = {
  PORT: { default: 8001, read: integer(0, 65_535) },
  HOST: { default: '127.0.0.1', read: text },
  /** PGlite's directory when DATABASE_URL is unset. */
  DATA_DIR: { default: fileURLToPath(new URL('../data', import.meta.url)), read: text },
  DATABASE_URL: { default: undefined, read: text },
  DATABASE_POOL_SIZE: { default: 20, read: integer(1, 500) },
  REDIS_URL: { default: undefined, read: text },
  REDIS_KEY_PREFIX: { default: 'streamer:', read: text },
  API_KEYS: { default: undefined, read: text },
  WORKER_KEYS: { default: undefined, read: text },
  TELEGRAM_WEBHOOK_SECRET: { default: undefined, read: text },
  STREAMER_CONFIG: { default: undefined, read: text },
  LOG_LEVEL: { default: 'info', read: logLevel },
  IDEMPOTENCY_LEASE_MS: { default: 30_000, read: integer(100, 3_600_000) },
} as const;

type Settings = typeof settings;

/** The service's configuration: one value per setting, and the limits set by configuration key. */
export type Config = {
  -readonly [K in keyof Settings]: ReturnType<Settings[K]['read']> | Settings[K]['default'];
} & {
  /** Values for the limits' configuration keys (`limits.votePerMin`), from the file or the environment. */
  readonly limits: Partial<Record<LimitKey, number>>;
};

/** The names of every setting (the README's configuration table lists each). */
export const settingNames = Object.keys(settings) as (keyof Settings)[];

/** A setting that could not be read: the service refuses to start and says which. */
export class ConfigError extends Error {
  readonly code = 'ERR_STREAMER_CONFIG';
}

/** `limits.votePerMin` ⇐ `LIMITS_VOTE_PER_MIN`. */
export function envNameOf(key: string): string {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replaceAll('.', '_')
    .toUpperCase();
}

/**
 * Reads the configuration from `env`; limits from the JSON file `STREAMER_CONFIG` names
 * (`{ "limits": { "votePerMin": 50 } }`), each overridden by its variable (`LIMITS_VOTE_PER_MIN`).
 */
export function loadConfig(env: Readonly<Record<string, string | undefined>> = process.env): Config {
  const config: Record<string, unknown> = {};
  for (const name of settingNames) {
    const raw = env[name];
    if (raw === undefined || raw === '') {
      config[name] = settings[name].default;
      continue;
    }
    try {
      config[name] = settings[name].read(raw);
    } catch (error) {
      throw new ConfigError(`${name}: ${(error as Error).message}`, { cause: error });
    }
  }
  const file = config.STREAMER_CONFIG ? readLimitsFile(config.STREAMER_CONFIG as string) : {};
  const limits: Partial<Record<LimitKey, number>> = {};
  for (const key of LIMIT_KEYS) {
    const variable = envNameOf(key);
    const raw = env[variable] || file[key.slice('limits.'.length)];
    if (raw === undefined) continue;
    try {
      limits[key] = integer(1, 1e9)(String(raw));
    } catch (error) {
      throw new ConfigError(`${key} (${variable}): ${(error as Error).message}`, { cause: error });
    }
  }
  return { ...config, limits } as Config;
}

function readLimitsFile(path: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ConfigError(`STREAMER_CONFIG ${path}: ${(error as Error).message}`, { cause: error });
  }
  const limits = (parsed as { limits?: unknown } | null)?.limits;
  if (limits === null || typeof limits !== 'object' || Array.isArray(limits)) {
    throw new ConfigError(`STREAMER_CONFIG ${path}: expected { "limits": { "votePerMin": 50, … } }`);
  }
  const known = LIMIT_KEYS.map((key) => key.slice('limits.'.length));
  const unknown = Object.keys(limits).filter((name) => !known.includes(name));
  if (unknown.length > 0) {
    throw new ConfigError(
      `STREAMER_CONFIG ${path}: unknown limits ${unknown.join(', ')} (known: ${known.join(', ')})`,
    );
  }
  return limits as Record<string, unknown>;
}

function text(value: string): string {
  return value;
}

function integer(min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || n < min || n > max)
      throw new Error(`expected an integer from ${min} to ${max}, got "${value}"`);
    return n;
  };
}

const levels = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

function logLevel(value: string): string {
  const level = value.trim().toLowerCase();
  if (!levels.includes(level)) throw new Error(`expected one of ${levels.join(', ')}, got "${value}"`);
  return level;
}
