import { fileURLToPath } from 'node:url';
import { backendSettings, integer, logLevel, proxies, text } from '@tollgate/service-kit/settings';
import type { PolicyDocument } from 'tollgate/policies';
import { loadStreamerPolicies } from './policies.ts';

/**
 * Every environment setting of the service, declared once: its default and how its text is
 * read. The limits of `policies.yaml` are set by configuration key (see {@link Config.policies}).
 */
const settings = {
  PORT: { default: 8001, read: integer(0, 65_535) },
  HOST: { default: '127.0.0.1', read: text },
  /** The proxies in front (addresses or CIDRs, or a hop count): clients' addresses come from X-Forwarded-For. */
  TRUST_PROXY: { default: undefined, read: proxies },
  /** PGlite's directory when DATABASE_URL is unset. */
  DATA_DIR: { default: fileURLToPath(new URL('../data', import.meta.url)), read: text },
  ...backendSettings,
  REDIS_KEY_PREFIX: { default: 'streamer:', read: text },
  API_KEYS: { default: undefined, read: text },
  WORKER_KEYS: { default: undefined, read: text },
  /** The `secret_token` given to `setWebhook`: 1–256 of A–Z, a–z, 0–9, `_` and `-`, as Telegram takes it. */
  TELEGRAM_WEBHOOK_SECRET: { default: undefined, read: telegramSecret },
  STREAMER_CONFIG: { default: undefined, read: text },
  LOG_LEVEL: { default: 'info', read: logLevel },
  IDEMPOTENCY_LEASE_MS: { default: 30_000, read: integer(100, 3_600_000) },
  /** Requests without a valid key or webhook secret, per client address (key guessing is bounded). */
  RATE_LIMIT_IP: { default: 60, read: integer(1, 1e9) },
  RATE_LIMIT_IP_WINDOW_S: { default: 60, read: integer(1, 86_400) },
  /** The longest a client may take to send a whole request; then 408 and the connection closes. */
  REQUEST_TIMEOUT_MS: { default: 30_000, read: integer(100, 600_000) },
  /** On SIGTERM, how long requests in flight may take before the process stops anyway. */
  SHUTDOWN_TIMEOUT_MS: { default: 10_000, read: integer(0, 600_000) },
} as const;

type Settings = typeof settings;

/** Settings whose absence means a public development value (see `auth.ts`): never given empty. */
const credentials: ReadonlySet<string> = new Set(['API_KEYS', 'WORKER_KEYS', 'TELEGRAM_WEBHOOK_SECRET']);

/** The service's configuration: one value per setting, and the limits set by configuration key. */
export type Config = {
  -readonly [K in keyof Settings]: ReturnType<Settings[K]['read']> | Settings[K]['default'];
} & {
  /**
   * `policies.yaml` with the values of its configuration keys in force: from the JSON file
   * `STREAMER_CONFIG` names (`{ "limits": { "votePerMin": 50 } }`), each overridden by its
   * environment variable (`LIMITS_VOTE_PER_MIN`).
   */
  readonly policies: PolicyDocument;
};

/** The names of every setting (the README's configuration table lists each). */
export const settingNames = Object.keys(settings) as (keyof Settings)[];

/** A setting that could not be read: the service refuses to start and says which. */
export class ConfigError extends Error {
  readonly code = 'ERR_STREAMER_CONFIG';
}

/**
 * Reads the configuration from `env`, and the policy file with its configured limits.
 * @throws {ConfigError} for a setting that cannot be read; `PolicyFileError` for the policies.
 */
export function loadConfig(env: Readonly<Record<string, string | undefined>> = process.env): Config {
  const config: Record<string, unknown> = {};
  for (const name of settingNames) {
    const raw = env[name];
    if (raw === undefined || raw === '') {
      // Unset, a credential falls back to a public development value: given empty, it is a
      // mistake (`API_KEYS=$KEYS` with `KEYS` unset), not a wish for that value.
      if (raw === '' && credentials.has(name)) {
        throw new ConfigError(
          `${name} is set but empty: give it a value, or unset it (unset, the development value is accepted)`,
        );
      }
      config[name] = settings[name].default;
      continue;
    }
    try {
      config[name] = settings[name].read(raw);
    } catch (error) {
      throw new ConfigError(`${name}: ${(error as Error).message}`, { cause: error });
    }
  }
  const policies = loadStreamerPolicies({ env, configFile: config.STREAMER_CONFIG as string | undefined });
  return { ...config, policies } as Config;
}

/** A `secret_token` `setWebhook` accepts (anything else, Telegram refuses: no update would match). */
function telegramSecret(value: string): string {
  if (!/^[A-Za-z0-9_-]{1,256}$/.test(value))
    throw new Error(
      'expected 1–256 characters of A–Z, a–z, 0–9, _ and - (what setWebhook accepts as secret_token)',
    );
  return value;
}
