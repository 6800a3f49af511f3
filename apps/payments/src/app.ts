import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { healthRoutes, type Lifecycle } from '@tollgate/service-kit/health';
import { protocolProblems } from '@tollgate/service-kit/protocol';
import { idempotencySweeper } from '@tollgate/service-kit/sweeper';
import Fastify, { type FastifyInstance } from 'fastify';
import type { DestinationStream } from 'pino';
import { connectionOptions, tollgate } from 'tollgate/fastify';
import { refuseContentEncoding } from './json-body.ts';
import { servicePolicies } from './limits.ts';
import { REDACTED_PATHS, serializeRequest } from './log.ts';
import { countResponses } from './metrics.ts';
import { describeAnswers } from './openapi.ts';
import { errorHandler } from './problem.ts';
import { requestIdOf, requestSurface } from './request-surface.ts';
import { auditLogsRoute } from './routes/audit-logs.ts';
import { createPaymentRoute } from './routes/create-payment.ts';
import { rateLimitsRoute } from './routes/rate-limits.ts';
import { readPaymentRoute } from './routes/read-payment.ts';
import { retryConfigRoutes } from './routes/retry-config.ts';
import { simulateRoute } from './routes/simulate.ts';
import type { Services } from './services.ts';
import { recoveryWorker } from './workers/recovery.ts';

/** The largest request body accepted (1 MiB); more answers 413. */
export const BODY_LIMIT = 1_048_576;

/** What {@link buildApp} may be given besides the services. */
export interface AppOptions {
  /** Where log lines go. @default standard output */
  readonly logStream?: DestinationStream;
}

/**
 * The payments service on Fastify: tollgate in front of every API route (the seed's limits,
 * idempotency keys on payments), RFC 9457 problems for every error, request ids, metrics,
 * health, OpenAPI at `/openapi.json` and its docs page at `/docs`.
 */
export async function buildApp(
  services: Services,
  lifecycle: Lifecycle = { draining: false },
  options: AppOptions = {},
): Promise<FastifyInstance> {
  const { config, metrics } = services;
  const app = Fastify({
    logger: {
      level: config.LOG_LEVEL,
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      serializers: { req: serializeRequest },
      ...(options.logStream && { stream: options.logStream }),
    },
    bodyLimit: BODY_LIMIT,
    // A request must arrive whole within REQUEST_TIMEOUT_MS; parser refusals are problems too.
    ...connectionOptions({
      requestTimeoutMs: config.REQUEST_TIMEOUT_MS,
      ...(config.TRUST_PROXY !== undefined && { trustedProxies: config.TRUST_PROXY }),
    }),
    genReqId: requestIdOf,
    // A URL Fastify cannot decode (`%ED%A0%80`, a lone surrogate) is a 400 problem like any other.
    frameworkErrors: (error, request, reply) => errorHandler(error, request, reply),
    // Money must arrive as JSON numbers: no coercion of "99.99", no silently dropped fields.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
  });
  requestSurface(app);
  protocolProblems(app);
  app.addHook('onRequest', refuseContentEncoding);

  // Callback-style hooks: on every request, an async hook costs a promise and a microtask.
  app.addHook('onSend', (request, reply, payload, done) => {
    reply.header('x-request-id', request.id);
    // Draining: the client is told to reconnect (elsewhere), so a keep-alive connection does
    // not hold the process until the shutdown timeout.
    if (lifecycle.draining) reply.header('connection', 'close');
    done(null, payload);
  });
  countResponses(app, metrics);

  await app.register(swagger, {
    openapi: {
      info: {
        title: 'tollgate payments',
        version: '0.1.0',
        description: 'Idempotent, rate-limited payments (tollgate reference service, WEB-012).',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    transformObject: (document) =>
      describeAnswers('openapiObject' in document ? document.openapiObject : document.swaggerObject),
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  const { all } = servicePolicies(config);
  await app.register(tollgate, {
    rateLimitStore: services.rateLimitStore,
    idempotencyStore: services.idempotencyStore,
    policies: all,
    global: false,
    principal: (request) => request.principal,
    metrics: metrics.registry,
  });

  createPaymentRoute(app, services);
  readPaymentRoute(app, services);
  await retryConfigRoutes(app, config);
  rateLimitsRoute(app, services);
  auditLogsRoute(app, services);
  simulateRoute(app, services);
  healthRoutes(app, services, lifecycle, (summary) => ({ schema: { summary, tags: ['health'] } }));
  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) =>
    reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
  );
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  const workers = [
    idempotencySweeper(config, services.database, metrics.registry, app.log),
    recoveryWorker(services, app.log),
  ];
  app.addHook('onReady', async () => {
    for (const worker of workers) worker.start();
  });
  app.addHook('onClose', async () => {
    await Promise.all(workers.map((worker) => worker.stop()));
  });
  return app;
}
