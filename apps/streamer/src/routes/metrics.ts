import type { FastifyInstance } from 'fastify';
import type { Services } from '../services.ts';

/** `GET /metrics` (Prometheus), open like `/health`. */
export function metricsRoute(app: FastifyInstance, { metrics }: Services): void {
  app.get('/metrics', { config: { tollgate: false } }, async (_request, reply) =>
    reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
  );
}
