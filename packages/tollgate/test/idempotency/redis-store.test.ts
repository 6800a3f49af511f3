import { Redis } from 'ioredis';
import { RedisIdempotencyStore } from 'tollgate/redis';
import { keyPrefix, redisUrl } from '../../../../testkit/index.ts';
import { describeStoreContract } from './contract.ts';

describeStoreContract('redis', async () => {
  const redis = new Redis(redisUrl());
  return {
    store: new RedisIdempotencyStore({ redis, prefix: keyPrefix() }),
    elapse: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    shortMs: 150,
    expiresItself: true,
    close: async () => void redis.disconnect(),
  };
});
