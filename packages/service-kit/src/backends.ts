import { resolve } from 'node:path';
import type { FastifyBaseLogger } from 'fastify';
import { Redis } from 'ioredis';
import {
  type Database,
  DataDirInUseError,
  openPGlite,
  openPostgres,
  type ServiceSchema,
} from './database/index.ts';
import type { BackendConfig } from './settings.ts';

/** A service's database and, when configured, its Redis. */
export interface Backends {
  readonly database: Database;
  readonly redis: Redis | undefined;
}

/**
 * Opens the database — PostgreSQL with `DATABASE_URL` (a pool bounded by the configured
 * timeouts), else PGlite in `DATA_DIR` — and runs tollgate's migrations and `schema`'s; then
 * Redis with `REDIS_URL`. A database that cannot be opened refuses the start (the error names
 * the setting); Redis that does not answer does not: the service starts degraded, as it runs
 * through a Redis outage (limits as their policies say on store errors, `/health` degraded),
 * while the client keeps reconnecting. Whatever opened is closed again if a later step fails.
 */
export async function openBackends(config: BackendConfig, schema: ServiceSchema): Promise<Backends> {
  const where = config.DATABASE_URL ? 'DATABASE_URL' : `DATA_DIR ${resolve(config.DATA_DIR)}`;
  let database: Database | undefined;
  try {
    database = config.DATABASE_URL
      ? openPostgres(
          {
            connectionString: config.DATABASE_URL,
            poolSize: config.DATABASE_POOL_SIZE,
            connectTimeoutMs: config.DATABASE_CONNECT_TIMEOUT_MS,
            statementTimeoutMs: config.DATABASE_STATEMENT_TIMEOUT_MS,
            lockTimeoutMs: config.DATABASE_LOCK_TIMEOUT_MS,
            idleInTransactionTimeoutMs: config.DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS,
          },
          schema,
        )
      : await openPGlite(resolve(config.DATA_DIR), schema);
    await database.migrate();
  } catch (error) {
    await database?.close().catch(() => undefined);
    if (error instanceof DataDirInUseError) throw error;
    throw new Error(`cannot open the database (${where}): ${messageOf(error)}`, { cause: error });
  }
  let redis: Redis | undefined;
  if (config.REDIS_URL) {
    redis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: 1, lazyConnect: true });
    redis.on('error', () => undefined); // reported by /health and by tollgate's store errors
    // Unanswered, the client goes on reconnecting in the background (see `redis.status`).
    await redis.connect().catch(() => undefined);
  }
  return { database, redis };
}

/** An error's message, with its causes' (`pg` wraps the socket's error). */
function messageOf(error: unknown): string {
  const messages: string[] = [];
  for (let at = error, depth = 0; at instanceof Error && depth < 4; at = at.cause, depth++) {
    // A wrapper that already quotes its cause's message adds nothing by repeating it.
    if (at.message && !messages.some((message) => message.includes(at.message))) messages.push(at.message);
  }
  return messages.join(': ') || String(error);
}

/**
 * Ends the process when a service cannot start: one line on stderr saying why (a setting it
 * cannot read, a database it cannot open), no stack; exit code 1.
 */
export function refuseToStart(service: string, error: unknown): never {
  // One line: a message listing several problems (a policy file's) has them joined by "; ".
  const line = messageOf(error).replace(/\s*\n\s*(?:- )?/g, '; ');
  process.stderr.write(`${service} service cannot start: ${line}\n`);
  process.exit(1);
}

/** A warning when Redis did not answer at start: the service runs degraded until it does. */
export function warnIfRedisDown(redis: Redis | undefined, log: FastifyBaseLogger): void {
  if (redis === undefined || redis.status === 'ready') return;
  log.warn(
    'Redis (REDIS_URL) does not answer: running degraded until it does (rate limits as their policies say on store errors; /health says degraded)',
  );
}
