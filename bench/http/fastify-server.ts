/** The Fastify servers of `bench/http.ts`, each as a user of its library would write it. */
import Fastify, { type FastifyInstance, type RouteShorthandOptions } from 'fastify';
import { Redis } from 'ioredis';
import { tollgate } from 'tollgate/fastify';
import { RedisRateLimitStore } from 'tollgate/redis';
import type { FastifyServer } from './contenders.ts';
import { nodeIdempotencyHooks } from './node-idempotency.ts';
import { Effects, hello, payment } from './route.ts';
import { type BenchStores, huge, perIp, tollgateIdempotencyStore } from './stores.ts';

/** Builds and starts one server; answers its base URL. */
export async function fastifyServer(name: FastifyServer, stores: BenchStores): Promise<string> {
  const app = Fastify();
  const redis = () => new Redis(stores.redisUrl);
  let idempotent: RouteShorthandOptions = {};
  switch (name) {
    case 'fastify+tollgate(memory)':
      await app.register(tollgate, { policies: perIp });
      break;
    case 'fastify+tollgate(redis)':
      await app.register(tollgate, {
        policies: perIp,
        rateLimitStore: new RedisRateLimitStore({ redis: redis() }),
      });
      break;
    case 'fastify+@fastify/rate-limit(memory)':
    case 'fastify+@fastify/rate-limit(redis)': {
      const { default: rateLimit } = await import('@fastify/rate-limit');
      await app.register(rateLimit, {
        max: huge,
        timeWindow: 60_000,
        ...(name.endsWith('(redis)') && { redis: redis() }),
      });
      break;
    }
    case 'fastify+tollgate idem(tiered)':
    case 'fastify+tollgate idem(redis)':
      await app.register(tollgate, { idempotencyStore: await tollgateIdempotencyStore(name, stores) });
      idempotent = { config: { tollgate: { idempotency: 'required' } } };
      break;
    case 'fastify+@node-idempotency':
      idempotent = { ...(await nodeIdempotencyHooks(stores.redisUrl)) };
      break;
    case 'fastify':
      break;
  }
  routes(app, idempotent, new Effects(redis()));
  return app.listen({ port: 0, host: '127.0.0.1' });
}

function routes(app: FastifyInstance, idempotent: RouteShorthandOptions, effects: Effects): void {
  app.get('/', async () => hello);
  app.get('/bench/handled', async () => ({ pay: effects.paid }));
  app.post('/pay', idempotent, async (_request, reply) => {
    effects.paid++;
    return reply.code(201).send(payment);
  });
  app.post('/race', idempotent, async (request, reply) => {
    const effect = await effects.charge(request.headers['idempotency-key']);
    return reply.code(201).send({ effect });
  });
}
