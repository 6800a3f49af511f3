import { BearerKeys, SharedSecret } from '@tollgate/service-kit/auth';
import { openBackends } from '@tollgate/service-kit/backends';
import type { Database } from '@tollgate/service-kit/database';
import type { Redis } from 'ioredis';
import { MemoryRateLimitStore, RateLimiter, type RateLimitStore } from 'tollgate';
import {
  type IdempotencyStore,
  MemoryIdempotencyStore,
  MemoryReplayCache,
  TieredIdempotencyStore,
} from 'tollgate/idempotency';
import type { PolicyDocument } from 'tollgate/policies';
import { RedisIdempotencyStore, RedisRateLimitStore } from 'tollgate/redis';
import { DEVELOPMENT_API_KEY, DEVELOPMENT_TELEGRAM_SECRET, DEVELOPMENT_WORKER_KEY } from './auth.ts';
import type { Config } from './config.ts';
import { ServiceMetrics } from './metrics.ts';
import { streamerSchema } from './sql/schema.ts';

/** Everything the routes use, opened once at start-up. */
export interface Services {
  readonly config: Config;
  readonly database: Database;
  readonly redis: Redis | undefined;
  readonly users: BearerKeys;
  readonly workers: BearerKeys;
  readonly telegram: SharedSecret;
  /** `policies.yaml` with the configured limits. */
  readonly policies: PolicyDocument;
  readonly metrics: ServiceMetrics;
  readonly rateLimitStore: RateLimitStore;
  /**
   * `per-ip`: requests without a valid key or webhook secret, per client address. They pay no
   * other limit, so this one bounds guessing; a caller with a valid key never touches it.
   */
  readonly failedAuth: RateLimiter;
  /** Where the rows whose Storage is "Redis" keep their keys (memory on the embedded default). */
  readonly idempotencyStore: IdempotencyStore;
  /**
   * Where the rows that move money or write rows keep their keys: the database, claimed inside
   * the handler's transaction (`tx.bind(effectStore)`: the key and the effect commit together),
   * with a replay cache in front — Redis when configured, else this process's memory.
   */
  readonly effectStore: TieredIdempotencyStore;
  close(): Promise<void>;
}

/**
 * Opens the database (PostgreSQL with `DATABASE_URL`, else PGlite in `DATA_DIR`) and runs the
 * migrations; Redis with `REDIS_URL` for limits and keys, else memory.
 */
export async function openServices(config: Config): Promise<Services> {
  const users = BearerKeys.parse('API_KEYS', config.API_KEYS, DEVELOPMENT_API_KEY);
  const workers = BearerKeys.parse('WORKER_KEYS', config.WORKER_KEYS, DEVELOPMENT_WORKER_KEY);
  const telegram = config.TELEGRAM_WEBHOOK_SECRET
    ? new SharedSecret(config.TELEGRAM_WEBHOOK_SECRET)
    : new SharedSecret(DEVELOPMENT_TELEGRAM_SECRET, true);
  const { database, redis } = await openBackends(config, streamerSchema);
  const prefix = config.REDIS_KEY_PREFIX;
  const rateLimitStore = redis ? new RedisRateLimitStore({ redis, prefix }) : new MemoryRateLimitStore();
  return {
    config,
    database,
    redis,
    users,
    workers,
    telegram,
    policies: config.policies,
    metrics: new ServiceMetrics(),
    rateLimitStore,
    failedAuth: new RateLimiter({
      store: rateLimitStore,
      policies: [
        {
          name: 'per-ip',
          algorithm: 'sliding-window',
          limit: config.RATE_LIMIT_IP,
          windowSeconds: config.RATE_LIMIT_IP_WINDOW_S,
          subject: ['ip'],
        },
      ],
    }),
    idempotencyStore: redis
      ? new RedisIdempotencyStore({ redis, prefix: `${prefix}idem:` })
      : new MemoryIdempotencyStore(),
    effectStore: new TieredIdempotencyStore({
      truth: database.idempotency,
      ...(redis ? { redis, prefix: `${prefix}replay:` } : { cache: new MemoryReplayCache() }),
    }),
    async close() {
      redis?.disconnect();
      await database.close();
    },
  };
}
