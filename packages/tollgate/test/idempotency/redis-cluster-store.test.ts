import { Cluster } from 'ioredis';
import { RedisIdempotencyStore } from 'tollgate/redis';
import { keyPrefix, redisClusterNodes } from '../../../../testkit/index.ts';
import { describeStoreContract } from './contract.ts';

// Every script touches one key (one record), so the same store runs unchanged on a Cluster.
describeStoreContract('redis cluster', async () => {
  const redis = new Cluster(redisClusterNodes());
  return {
    store: new RedisIdempotencyStore({ redis, prefix: keyPrefix() }),
    elapse: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    shortMs: 150,
    expiresItself: true,
    close: async () => void redis.disconnect(),
  };
});
