import { readFileSync } from 'node:fs';
import { backendSettings, integer, logLevel, proxies, text } from '@tollgate/service-kit/settings';

/**
 * Every setting of the service, declared once: its environment variable, its default and how
 * its text is read. Values come from the environment, then from the JSON file named by
 * `CONFIG_FILE` (keys are the same variable names), then from these defaults.
 */
const settings = {
  PORT: { default: 8000, read: integer(0, 65_535) },
  HOST: { default: '127.0.0.1', read: text },
  /** The proxies in front (addresses or CIDRs, or a hop count): clients' addresses come from X-Forwarded-For. */
  TRUST_PROXY: { default: undefined, read: proxies },
  /** PGlite's directory when DATABASE_URL is unset. */
  DATA_DIR: { default: './data', read: text },
  ...backendSettings,
  REDIS_KEY_PREFIX: { default: 'payments:', read: text },
  API_KEYS: { default: undefined, read: text },
  API_KEY: { default: undefined, read: text },
  LOG_LEVEL: { default: 'info', read: logLevel },
  RATE_LIMIT_GLOBAL: { default: 1000, read: integer(1, 1e9) },
  RATE_LIMIT_GLOBAL_WINDOW_S: { default: 60, read: integer(1, 86_400) },
  RATE_LIMIT_USER: { default: 100, read: integer(1, 1e9) },
  RATE_LIMIT_USER_WINDOW_S: { default: 60, read: integer(1, 86_400) },
  RATE_LIMIT_PAYMENTS: { default: 10, read: integer(1, 1e9) },
  RATE_LIMIT_PAYMENTS_WINDOW_S: { default: 60, read: integer(1, 86_400) },
  RATE_LIMIT_BURST_RATE: { default: 20, read: integer(1, 1e9) },
  RATE_LIMIT_BURST_CAPACITY: { default: 50, read: integer(1, 1e9) },
  /** Requests without a valid API key, per client address (API-key guessing is bounded). */
  RATE_LIMIT_IP: { default: 60, read: integer(1, 1e9) },
  RATE_LIMIT_IP_WINDOW_S: { default: 60, read: integer(1, 86_400) },
  IDEMPOTENCY_TTL_MS: { default: 86_400_000, read: integer(1000, 30 * 86_400_000) },
  IDEMPOTENCY_LEASE_MS: { default: 30_000, read: integer(100, 3_600_000) },
  PROCESSOR_LATENCY_MS: { default: 0, read: integer(0, 600_000) },
  PROCESSOR_FAILURE_RATE: { default: 0, read: rate },
  PROCESSOR_DECLINE_RATE: { default: 0, read: rate },
  SHUTDOWN_TIMEOUT_MS: { default: 10_000, read: integer(0, 600_000) },
  /**
   * The longest a client may take to send one whole request (headers and body); then 408 and
   * the connection is closed, so a slow sender cannot hold a connection open.
   * @default 30000
   */
  REQUEST_TIMEOUT_MS: { default: 30_000, read: integer(100, 600_000) },
  /**
   * How often the recovery worker looks for payments left pending.
   * @default 30000
   */
  RECOVERY_INTERVAL_MS: { default: 30_000, read: integer(100, 86_400_000) },
  /**
   * A payment pending this long (past any lease: default 4× `IDEMPOTENCY_LEASE_MS`'s default)
   * was abandoned by its request: the recovery worker charges it with its own downstream key
   * (the processor charges at most once per key) and settles it.
   * @default 120000
   */
  RECOVERY_AFTER_MS: { default: 120_000, read: integer(100, 30 * 86_400_000) },
  /**
   * Payments the recovery worker settles per round.
   * @default 100
   */
  RECOVERY_BATCH: { default: 100, read: integer(1, 10_000) },
} as const;

type Settings = typeof settings;
/** The service's configuration: one value per setting, defaults applied. */
export type Config = {
  -readonly [K in keyof Settings]: ReturnType<Settings[K]['read']> | Settings[K]['default'];
};

/** The names of every setting (the README's configuration table lists each). */
export const settingNames = Object.keys(settings) as (keyof Settings)[];

/** A setting that could not be read: the service refuses to start and says which. */
export class ConfigError extends Error {
  readonly code = 'ERR_PAYMENTS_CONFIG';
}

/**
 * Settings that may not be given empty: with neither key setting the service accepts the
 * public development key, so `API_KEYS=$KEYS` with `KEYS` unset must not start it that way.
 */
const credentials: ReadonlySet<string> = new Set(['API_KEYS', 'API_KEY']);

/**
 * Reads the configuration from `env` (and the file `env.CONFIG_FILE` names, if any). An empty
 * variable counts as unset — the file's value, else the default — except for a credential.
 */
export function loadConfig(env: Readonly<Record<string, string | undefined>> = process.env): Config {
  const file = env.CONFIG_FILE ? readConfigFile(env.CONFIG_FILE) : {};
  const config: Record<string, unknown> = {};
  for (const name of settingNames) {
    const setting = settings[name];
    const raw = (env[name] === '' ? undefined : env[name]) ?? file[name];
    if (raw === undefined || raw === '') {
      if (credentials.has(name) && (raw === '' || env[name] === '')) {
        throw new ConfigError(
          `${name} is set but empty: give it keys, or unset it (with no key setting at all the development key is accepted)`,
        );
      }
      config[name] = setting.default;
      continue;
    }
    try {
      config[name] = setting.read(String(raw));
    } catch (error) {
      throw new ConfigError(`${name}: ${(error as Error).message}`, { cause: error });
    }
  }
  return config as Config;
}

function readConfigFile(path: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ConfigError(`CONFIG_FILE ${path}: ${(error as Error).message}`, { cause: error });
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError(`CONFIG_FILE ${path}: expected a JSON object of setting names`);
  }
  const unknown = Object.keys(parsed).filter((name) => !(name in settings));
  if (unknown.length > 0)
    throw new ConfigError(`CONFIG_FILE ${path}: unknown settings ${unknown.join(', ')}`);
  return parsed as Record<string, unknown>;
}

function rate(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1)
    throw new Error(`expected a number from 0 to 1, got "${value}"`);
  return n;
}
