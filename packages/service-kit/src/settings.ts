import { connectionOptions } from 'tollgate/fastify';

/**
 * How a setting's text is read: the value, or an Error whose message says what was expected
 * (the service names the setting and refuses to start).
 */
export type Reader<T> = (value: string) => T;

/** Text as given. */
export const text: Reader<string> = (value) => value;

/** A whole number from `min` to `max`, digits only. */
export function integer(min: number, max: number): Reader<number> {
  return (value) => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || n < min || n > max)
      throw new Error(`expected an integer from ${min} to ${max}, got "${value}"`);
    return n;
  };
}

/**
 * A URL with one of `schemes` (`postgres`, `postgresql`…). The error never repeats the value: a
 * URL may hold a password.
 */
export function url(...schemes: string[]): Reader<string> {
  const expected = schemes.map((scheme) => `${scheme}://`).join(' or ');
  return (value) => {
    let parsed: URL;
    try {
      parsed = new URL(value);
    } catch {
      throw new Error(`expected a URL starting ${expected}`);
    }
    if (!schemes.includes(parsed.protocol.slice(0, -1)))
      throw new Error(`expected a URL starting ${expected}, got one starting ${parsed.protocol}//`);
    return value;
  };
}

/**
 * A PostgreSQL URL. A SQLAlchemy-style scheme naming a Python driver (`postgresql+asyncpg://`,
 * as in seed 001's setup) is read as `postgresql://`: the driver means nothing here.
 */
export const databaseUrl: Reader<string> = (value) =>
  url('postgres', 'postgresql')(value.replace(/^(postgres(?:ql)?)\+[A-Za-z0-9_]+:\/\//i, '$1://'));

/** Proxies as `connectionOptions` takes them (it refuses anything but addresses, CIDRs or a hop count). */
export const proxies: Reader<string> = (value) => {
  connectionOptions({ trustedProxies: value });
  return value;
};

const levels: Record<string, string> = {
  trace: 'trace',
  debug: 'debug',
  info: 'info',
  warn: 'warn',
  warning: 'warn',
  error: 'error',
  critical: 'fatal',
  fatal: 'fatal',
  silent: 'silent',
};

/** pino's level for pino's names and the seeds' (`DEBUG`, `INFO`, `WARNING`, `CRITICAL`…), any case. */
export const logLevel: Reader<string> = (value) => {
  const level = levels[value.trim().toLowerCase()];
  if (level === undefined)
    throw new Error(`expected one of ${Object.keys(levels).join(', ')}, got "${value}"`);
  return level;
};

/**
 * The settings of the database, Redis and the idempotency sweeper, the same in both services:
 * each with its default and reader, to spread into a service's own declarations.
 */
export const backendSettings = {
  DATABASE_URL: { default: undefined, read: databaseUrl },
  DATABASE_POOL_SIZE: { default: 20, read: integer(1, 500) },
  /**
   * Connecting to PostgreSQL, and waiting for a free pooled connection: past it, 503.
   * @default 2000
   */
  DATABASE_CONNECT_TIMEOUT_MS: { default: 2000, read: integer(100, 600_000) },
  /**
   * PostgreSQL cancels a statement running longer (`statement_timeout`); the client gives up
   * on a stalled server after this plus the connect timeout. Either way: 503.
   * @default 5000
   */
  DATABASE_STATEMENT_TIMEOUT_MS: { default: 5000, read: integer(100, 600_000) },
  /**
   * A statement waits at most this long for a row or table lock (`lock_timeout`): 503.
   * @default 2000
   */
  DATABASE_LOCK_TIMEOUT_MS: { default: 2000, read: integer(100, 600_000) },
  /**
   * PostgreSQL ends a session left idle inside a transaction (`idle_in_transaction_session_timeout`),
   * freeing its locks. The services never wait on anything but the database inside one.
   * @default 10000
   */
  DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: { default: 10_000, read: integer(100, 3_600_000) },
  REDIS_URL: { default: undefined, read: url('redis', 'rediss') },
  /**
   * How often expired idempotency records are swept (every process may sweep: sweepers skip
   * each other's rows).
   * @default 60000
   */
  IDEMPOTENCY_SWEEP_INTERVAL_MS: { default: 60_000, read: integer(100, 86_400_000) },
  /**
   * Records deleted per sweep statement (a short transaction each).
   * @default 500
   */
  IDEMPOTENCY_SWEEP_BATCH: { default: 500, read: integer(1, 100_000) },
} as const;

/** The values of {@link backendSettings}, plus where PGlite keeps its files. */
export interface BackendConfig {
  readonly DATA_DIR: string;
  readonly DATABASE_URL: string | undefined;
  readonly DATABASE_POOL_SIZE: number;
  readonly DATABASE_CONNECT_TIMEOUT_MS: number;
  readonly DATABASE_STATEMENT_TIMEOUT_MS: number;
  readonly DATABASE_LOCK_TIMEOUT_MS: number;
  readonly DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: number;
  readonly REDIS_URL: string | undefined;
  readonly IDEMPOTENCY_SWEEP_INTERVAL_MS: number;
  readonly IDEMPOTENCY_SWEEP_BATCH: number;
}
