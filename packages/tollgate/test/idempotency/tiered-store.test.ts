import { Redis } from 'ioredis';
import pg from 'pg';
import { PostgresIdempotencyStore } from 'tollgate/postgres';
import { TieredIdempotencyStore } from 'tollgate/redis';
import { freshDatabase, keyPrefix, redisUrl } from '../../../../testkit/index.ts';
import { describeStoreContract } from './contract.ts';

describeStoreContract('tiered (postgres + redis)', async () => {
  const pool = new pg.Pool({ connectionString: await freshDatabase(), max: 5 });
  const truth = new PostgresIdempotencyStore({ pool });
  await truth.migrate();
  const redis = new Redis(redisUrl());
  return {
    store: new TieredIdempotencyStore({ truth, redis, prefix: keyPrefix() }),
    elapse: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    shortMs: 150,
    expiresItself: false,
    close: async () => {
      redis.disconnect();
      await pool.end();
    },
  };
});
