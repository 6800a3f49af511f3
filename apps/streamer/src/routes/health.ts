import type { FastifyInstance } from 'fastify';
import type { Services } from '../services.ts';

type Check = { status: 'up' | 'down' | 'not_configured'; error?: string };

async function check(probe: () => Promise<unknown>): Promise<Check> {
  try {
    await Promise.race([
      probe(),
      new Promise((_, reject) =>
        setTimeout(() => reject(new Error('timed out after 1000 ms')), 1000).unref(),
      ),
    ]);
    return { status: 'up' };
  } catch (error) {
    return { status: 'down', error: (error as Error).message };
  }
}

/** `GET /health` (database and Redis) and `GET /metrics` (Prometheus). */
export function operationRoutes(app: FastifyInstance, services: Services): void {
  const { database, redis, metrics } = services;
  app.get('/health', { config: { tollgate: false } }, async (_request, reply) => {
    const [db, cache] = await Promise.all([
      check(() => database.query('SELECT 1')),
      redis ? check(() => redis.ping()) : Promise.resolve<Check>({ status: 'not_configured' }),
    ]);
    const status = db.status !== 'up' ? 'unhealthy' : cache.status === 'down' ? 'degraded' : 'healthy';
    return reply
      .code(status === 'unhealthy' ? 503 : 200)
      .send({ status, services: { database: { ...db, kind: database.kind }, redis: cache } });
  });
  app.get('/metrics', { config: { tollgate: false } }, async (_request, reply) =>
    reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
  );
}
