import type {
  FastifyBaseLogger,
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  RouteShorthandOptions,
} from 'fastify';
import { defineProblems, sendProblem } from 'tollgate/fastify';
import type { Backends } from './backends.ts';
import { isDatabaseUnavailable } from './database/index.ts';

/** How long a client should wait before retrying while the database is unreachable (`Retry-After`). */
export const DATABASE_RETRY_AFTER_SECONDS = 2;

const unavailable = defineProblems({ 'database-unavailable': { status: 503, title: 'Service Unavailable' } });

/**
 * For an error handler: when `error` means the database cannot answer now (unreachable, or a
 * statement or lock timeout), 503 problem+json with `Retry-After`, the details in the log only;
 * undefined for any other error.
 */
export function sendIfDatabaseUnavailable(
  error: unknown,
  request: FastifyRequest,
  reply: FastifyReply,
): FastifyReply | undefined {
  if (!isDatabaseUnavailable(error)) return undefined;
  request.log.warn({ err: error }, 'database unavailable');
  return sendProblem(reply.header('retry-after', String(DATABASE_RETRY_AFTER_SECONDS)), {
    ...unavailable['database-unavailable'],
    detail: `The database could not answer in time (unreachable, or busy). Retry after ${DATABASE_RETRY_AFTER_SECONDS} s (with the same idempotency key, if any).`,
    retry_after: DATABASE_RETRY_AFTER_SECONDS,
  });
}

/** The service's state as probes see it. */
export interface Lifecycle {
  /** True once SIGTERM arrived: readiness fails so balancers stop sending. */
  draining: boolean;
}

/** A component's state as anyone may see it: never the error's text (that goes to the log). */
interface Check {
  status: 'up' | 'down' | 'not_configured';
  latency_ms?: number;
}

async function timed(
  check: () => Promise<unknown>,
  log: FastifyBaseLogger,
  component: string,
): Promise<Check> {
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
    log.warn({ err: error, component }, 'health check failed');
    return { status: 'down' };
  }
}

/**
 * `GET /health` (component checks), `/health/live` and `/health/ready`, open to anyone: each
 * component's state and latency, never an error's text (that goes to the log). `routeOptions`
 * gives each route's options from its summary (an OpenAPI schema, a route config).
 */
export function healthRoutes(
  app: FastifyInstance,
  { database, redis }: Backends,
  lifecycle: Lifecycle,
  routeOptions: (summary: string) => RouteShorthandOptions = () => ({}),
): void {
  const probe = async (log: FastifyBaseLogger) => {
    const [db, cache] = await Promise.all([
      timed(() => database.query('SELECT 1'), log, 'database'),
      redis ? timed(() => redis.ping(), log, 'redis') : Promise.resolve<Check>({ status: 'not_configured' }),
    ]);
    return { database: { ...db, kind: database.kind }, redis: cache };
  };
  // `/health` is open to anyone: requests that arrive while a probe runs share its answer, so a
  // flood of them costs the database one query at a time, not one each.
  let running: ReturnType<typeof probe> | undefined;
  const checks = (log: FastifyBaseLogger) => {
    running ??= probe(log).finally(() => {
      running = undefined;
    });
    return running;
  };

  app.get(
    '/health',
    routeOptions('Component checks: database, Redis, with latencies.'),
    async (request, reply) => {
      const services = await checks(request.log);
      const healthy = services.database.status === 'up' && services.redis.status !== 'down';
      const status = services.database.status !== 'up' ? 'unhealthy' : healthy ? 'healthy' : 'degraded';
      if (status === 'unhealthy') reply.header('retry-after', String(DATABASE_RETRY_AFTER_SECONDS));
      return reply.code(status === 'unhealthy' ? 503 : 200).send({
        status,
        services,
        draining: lifecycle.draining,
        uptime_seconds: Math.round(process.uptime()),
      });
    },
  );
  app.get('/health/live', routeOptions('Liveness: the process answers.'), async () => ({ status: 'alive' }));
  app.get(
    '/health/ready',
    routeOptions('Readiness: the database answers and the process is not draining.'),
    async (request, reply) => {
      const db = await timed(() => database.query('SELECT 1'), request.log, 'database');
      const ready = db.status === 'up' && !lifecycle.draining;
      if (!ready) reply.header('retry-after', String(DATABASE_RETRY_AFTER_SECONDS));
      return reply
        .code(ready ? 200 : 503)
        .send({ status: ready ? 'ready' : 'not_ready', draining: lifecycle.draining });
    },
  );
}
