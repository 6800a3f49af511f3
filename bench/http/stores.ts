/** The stores and policies the tollgate servers of `bench/http.ts` are configured with. */
import { Redis } from 'ioredis';
import pg from 'pg';
import type { IdempotencyStore } from 'tollgate/idempotency';
import { PostgresIdempotencyStore } from 'tollgate/postgres';
import { RedisIdempotencyStore, TieredIdempotencyStore } from 'tollgate/redis';
import type { Server } from './contenders.ts';

/** Where one server keeps its state: the run's private Redis, and a database of its own. */
export interface BenchStores {
  readonly redisUrl: string;
  readonly databaseUrl: string;
}

/** Never reached: the benchmark measures admission, not rejection. */
export const huge = 1_000_000_000;

export const perIp = [
  { name: 'per-ip', algorithm: 'fixed-window', limit: huge, windowSeconds: 60, subject: ['ip'] },
] as const;

/**
 * `… idem(tiered)`: PostgreSQL truth + Redis replay cache, as in production. `… idem(redis)`:
 * Redis alone. Each server has its own key prefix in the shared Redis, so no server ever reads
 * another's records.
 */
export async function tollgateIdempotencyStore(name: Server, stores: BenchStores): Promise<IdempotencyStore> {
  const prefix = `tollgate:${name.replace(/[^a-z]+/g, '-')}:`;
  const redis = new Redis(stores.redisUrl);
  if (name.endsWith('idem(redis)')) return new RedisIdempotencyStore({ redis, prefix });
  const truth = new PostgresIdempotencyStore({
    pool: new pg.Pool({ connectionString: stores.databaseUrl, max: 8 }),
  });
  await truth.migrate();
  return new TieredIdempotencyStore({ truth, redis, prefix });
}
