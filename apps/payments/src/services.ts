import type { BearerKeys } from '@tollgate/service-kit/auth';
import { openBackends } from '@tollgate/service-kit/backends';
import type { Database } from '@tollgate/service-kit/database';
import type { Redis } from 'ioredis';
import { MemoryRateLimitStore, RateLimiter, type RateLimitStore } from 'tollgate';
import { type Claim, MemoryReplayCache, TieredIdempotencyStore } from 'tollgate/idempotency';
import { RedisRateLimitStore } from 'tollgate/redis';
import { apiKeysFrom } from './auth.ts';
import type { Config } from './config.ts';
import { failedAuthPolicy, servicePolicies } from './limits.ts';
import { ServiceMetrics } from './metrics.ts';
import { faultsFrom, Processor } from './processor.ts';
import { paymentsSchema } from './sql/schema.ts';

/** Everything the routes use, opened once at start-up. */
export interface Services {
  readonly config: Config;
  readonly database: Database;
  readonly redis: Redis | undefined;
  readonly keys: BearerKeys;
  readonly processor: Processor;
  readonly metrics: ServiceMetrics;
  readonly rateLimitStore: RateLimitStore;
  /**
   * The database decides every claim; replays are answered from a cache (Redis, or this
   * process's memory on the embedded default) without touching it.
   */
  readonly idempotencyStore: TieredIdempotencyStore;
  /** Reads every policy for `GET /api/v1/rate-limits` without consuming. */
  readonly limitsView: RateLimiter;
  /** Counts requests without a valid API key per client address ({@link failedAuthPolicy}). */
  readonly failedAuth: RateLimiter;
  /** Claims held by requests in flight: released at shutdown if the drain runs out of time. */
  readonly openClaims: Set<Claim>;
  close(): Promise<void>;
}

/**
 * Opens the database (PostgreSQL with `DATABASE_URL`, else PGlite in `DATA_DIR`) and runs the
 * migrations; Redis with `REDIS_URL` for rate limits and the replay cache, else memory.
 */
export async function openServices(config: Config): Promise<Services> {
  const keys = apiKeysFrom(config);
  const { database, redis } = await openBackends(config, paymentsSchema);
  const prefix = config.REDIS_KEY_PREFIX;
  const rateLimitStore = redis ? new RedisRateLimitStore({ redis, prefix }) : new MemoryRateLimitStore();
  // Payments complete inside their phase-3 transaction, through a store bound to it: what they
  // completed is cached once it has committed (see create-payment.ts).
  const idempotencyStore = new TieredIdempotencyStore({
    truth: database.idempotency,
    ...(redis ? { redis, prefix: `${prefix}replay:` } : { cache: new MemoryReplayCache() }),
  });
  const { all, payments } = servicePolicies(config);
  return {
    config,
    database,
    redis,
    keys,
    processor: new Processor(database, faultsFrom(config)),
    metrics: new ServiceMetrics(),
    rateLimitStore,
    idempotencyStore,
    limitsView: new RateLimiter({ store: rateLimitStore, policies: [...all, ...payments] }),
    failedAuth: new RateLimiter({ store: rateLimitStore, policies: [failedAuthPolicy(config)] }),
    openClaims: new Set(),
    async close() {
      redis?.disconnect();
      await database.close();
    },
  };
}
