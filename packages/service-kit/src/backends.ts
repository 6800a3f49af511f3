import { resolve } from 'node:path';
import { Redis } from 'ioredis';
import { type Database, openPGlite, openPostgres, type ServiceSchema } from './database/index.ts';
import type { BackendConfig } from './settings.ts';

/** A service's database and, when configured, its Redis. */
export interface Backends {
  readonly database: Database;
  readonly redis: Redis | undefined;
}

/**
 * Opens the database — PostgreSQL with `DATABASE_URL` (a pool bounded by the configured
 * timeouts), else PGlite in `DATA_DIR` — and runs tollgate's migrations and `schema`'s; then
 * Redis with `REDIS_URL`. Whatever opened is closed again if a later step fails.
 */
export async function openBackends(config: BackendConfig, schema: ServiceSchema): Promise<Backends> {
  const database = config.DATABASE_URL
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
  let redis: Redis | undefined;
  try {
    await database.migrate();
    if (config.REDIS_URL) {
      redis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: 1, lazyConnect: true });
      redis.on('error', () => undefined); // reported by /health and by tollgate's store errors
      await redis.connect();
    }
  } catch (error) {
    redis?.disconnect();
    await database.close();
    throw error;
  }
  return { database, redis };
}
