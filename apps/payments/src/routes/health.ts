import type { FastifyInstance } from 'fastify';
import type { Services } from '../services.ts';

/** The service's state as probes see it. */
export interface Lifecycle {
  /** True once SIGTERM arrived: readiness fails so balancers stop sending. */
  draining: boolean;
}

interface Check {
  status: 'up' | 'down' | 'not_configured';
  latency_ms?: number;
  error?: string;
}

async function timed(check: () => Promise<unknown>): Promise<Check> {
  const started = performance.now();
  try {
    await Promise.race([
      check(),
      new Promise((_, reject) =>
        setTimeout(() => reject(new Error('timed out after 1000 ms')), 1000).unref(),
      ),
    ]);
    return { status: 'up', latency_ms: Math.round((performance.now() - started) * 100) / 100 };
  } catch (error) {
    return { status: 'down', error: (error as Error).message };
  }
}

/** `GET /health` (component checks), `/health/live` and `/health/ready`. */
export function healthRoutes(app: FastifyInstance, services: Services, lifecycle: Lifecycle): void {
  const { database, redis } = services;
  const checks = async () => {
    const [db, cache] = await Promise.all([
      timed(() => database.query('SELECT 1')),
      redis ? timed(() => redis.ping()) : Promise.resolve<Check>({ status: 'not_configured' }),
    ]);
    return { database: { ...db, kind: database.kind }, redis: cache };
  };
  const schema = (summary: string) => ({ schema: { summary, tags: ['health'] } });

  app.get(
    '/health',
    schema('Component checks: database, Redis, with latencies.'),
    async (_request, reply) => {
      const services = await checks();
      const healthy = services.database.status === 'up' && services.redis.status !== 'down';
      const status = services.database.status !== 'up' ? 'unhealthy' : healthy ? 'healthy' : 'degraded';
      return reply.code(status === 'unhealthy' ? 503 : 200).send({
        status,
        services,
        draining: lifecycle.draining,
        uptime_seconds: Math.round(process.uptime()),
      });
    },
  );
  app.get('/health/live', schema('Liveness: the process answers.'), async () => ({ status: 'alive' }));
  app.get(
    '/health/ready',
    schema('Readiness: the database answers and the process is not draining.'),
    async (_request, reply) => {
      const db = await timed(() => database.query('SELECT 1'));
      const ready = db.status === 'up' && !lifecycle.draining;
      return reply
        .code(ready ? 200 : 503)
        .send({ status: ready ? 'ready' : 'not_ready', draining: lifecycle.draining });
    },
  );
}
