/**
 * One racing process: opens its own connections and fires checks at one shared counter as
 * soon as it is told to start. Prints how many were admitted.
 * argv: <target: redis URL | cluster host:port,…> <prefix> <connections> <requests>
 */
import { Cluster, Redis } from 'ioredis';
import { RateLimiter } from 'tollgate';
import { RedisRateLimitStore } from 'tollgate/redis';

const [target, prefix, connections, requests] = process.argv.slice(2) as [string, string, string, string];
const open = () =>
  target.startsWith('redis://')
    ? new Redis(target)
    : new Cluster(
        target
          .split(',')
          .map((address) => ({ host: address.split(':')[0]!, port: Number(address.split(':')[1]) })),
      );

const clients = Array.from({ length: Number(connections) }, open);
await Promise.all(clients.map((client) => client.ping()));
const limiters = clients.map(
  (client) =>
    new RateLimiter({
      store: new RedisRateLimitStore({ redis: client, prefix }),
      policies: [
        { name: 'global', algorithm: 'gcra', limit: 1, windowSeconds: 3600, burst: 150 },
        {
          name: 'user',
          algorithm: 'sliding-window',
          limit: 1000,
          windowSeconds: 3600,
          subject: ['principal'],
        },
      ],
      storeTimeoutMs: 10_000,
      onStoreError: (error) => {
        throw error;
      },
    }),
);
process.send?.('ready');
await new Promise((resolve) => process.once('message', resolve));
const results = await Promise.all(
  Array.from({ length: Number(requests) }, (_, i) =>
    limiters[i % limiters.length]!.check({ principal: `acct_${i % 3}` }),
  ),
);
process.send?.({ admitted: results.filter((result) => result.allowed).length });
for (const client of clients) client.disconnect();
