import { randomUUID } from 'node:crypto';
import { healthRoutes, type Lifecycle } from '@tollgate/service-kit/health';
import { methodNotAllowed } from '@tollgate/service-kit/method-not-allowed';
import { protocolProblems } from '@tollgate/service-kit/protocol';
import { idempotencySweeper } from '@tollgate/service-kit/sweeper';
import Fastify, { type FastifyInstance } from 'fastify';
import { connectionOptions, tollgate } from 'tollgate/fastify';
import { errorHandler, notFoundHandler } from './problem.ts';
import { invoiceRoutes } from './routes/invoices.ts';
import { metricsRoute } from './routes/metrics.ts';
import { streamerRoutes } from './routes/streamers.ts';
import { telegramRoute } from './routes/telegram.ts';
import { voteRoute } from './routes/votes.ts';
import { walletRoutes } from './routes/wallet.ts';
import { workerRoutes } from './routes/worker.ts';
import type { Services } from './services.ts';
import { parseStrictJson } from './strict-json.ts';

/** The largest request body accepted (1 MiB: a full batch of 500 events fits); more answers 413. */
export const BODY_LIMIT = 1_048_576;

/** Refuses bytes that are not UTF-8 instead of replacing them with U+FFFD. */
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

const requestIdPattern = /^[A-Za-z0-9._-]{1,64}$/;

/** Secrets never written to logs: bearer keys, the Telegram secret, idempotency keys, cookies. */
const redacted = [
  'req.headers.authorization',
  'req.headers["x-telegram-bot-api-secret-token"]',
  'req.headers["idempotency-key"]',
  'req.headers["x-idempotency-key"]',
  'req.headers.cookie',
];

/**
 * The streamer service on Fastify: tollgate in front of every route of `policies.yaml` (seed
 * 000's two tables), RFC 9457 problems for every error, strict JSON, metrics and health.
 */
export async function buildApp(
  services: Services,
  /** Set `draining` on SIGTERM: responses then tell keep-alive clients to go. */
  lifecycle: Lifecycle = { draining: false },
): Promise<FastifyInstance> {
  const { config, metrics } = services;
  const app = Fastify({
    logger: {
      level: config.LOG_LEVEL,
      redact: { paths: redacted, censor: '[redacted]' },
      // Paths only: a query string may carry a token a client put there by mistake.
      serializers: {
        req: (request: { method: string; url: string; id: string }) => ({
          method: request.method,
          url: request.url.split('?')[0],
          id: request.id,
        }),
      },
    },
    bodyLimit: BODY_LIMIT,
    // A request must arrive whole within REQUEST_TIMEOUT_MS; parser refusals are problems too.
    ...connectionOptions({
      requestTimeoutMs: config.REQUEST_TIMEOUT_MS,
      ...(config.TRUST_PROXY !== undefined && { trustedProxies: config.TRUST_PROXY }),
    }),
    genReqId: (request) => {
      const given = request.headers['x-request-id'];
      return typeof given === 'string' && requestIdPattern.test(given) ? given : randomUUID();
    },
    // A URL Fastify cannot decode (a lone surrogate escaped, a bad %-escape) is a problem too.
    frameworkErrors: (error, request, reply) => errorHandler(error, request, reply),
    // Stars arrive as JSON integers: no coercion of "5", no silently dropped fields.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
  });
  app.decorateRequest('principal', undefined);
  app.setErrorHandler(errorHandler);
  protocolProblems(app);
  const notAllowed = methodNotAllowed(app);
  app.setNotFoundHandler((request, reply) => notAllowed(request, reply) ?? notFoundHandler(request, reply));
  app.removeContentTypeParser('text/plain');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, bytes, done) => {
    const refuse = (statusCode: number, message: string) =>
      done(Object.assign(new Error(message), { statusCode }));
    const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(request.headers['content-type'] ?? '')?.[1];
    if (charset !== undefined && !/^utf-?8$/i.test(charset))
      return refuse(415, `JSON is UTF-8: charset=${charset} is not accepted.`);
    const encoding = request.headers['content-encoding'];
    if (encoding !== undefined && encoding.toLowerCase() !== 'identity')
      return refuse(415, `Content-Encoding ${encoding} is not accepted: send the JSON as it is.`);
    let text: string;
    try {
      text = utf8.decode(bytes as Buffer);
    } catch {
      return refuse(400, 'The body is not valid UTF-8.');
    }
    if (text === '') return refuse(400, 'The JSON body is empty.');
    const parsed = parseStrictJson(text);
    if (parsed.ok) return done(null, parsed.value);
    refuse(400, parsed.reason);
  });

  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
    if (lifecycle.draining) reply.header('connection', 'close');
  });
  app.addHook('onResponse', async (request, reply) => {
    metrics.duration.observe(
      {
        method: request.method,
        route: request.routeOptions.url ?? 'unmatched',
        status_code: reply.statusCode,
      },
      reply.elapsedTime / 1000,
    );
  });

  await app.register(tollgate, {
    rateLimitStore: services.rateLimitStore,
    idempotencyStore: services.idempotencyStore,
    global: false,
    principal: (request) => request.principal,
    metrics: metrics.registry,
  });

  const registered: string[] = [];
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) registered.push(`${method} ${route.url}`);
  });
  streamerRoutes(app, services);
  invoiceRoutes(app, services);
  voteRoute(app, services);
  walletRoutes(app, services);
  telegramRoute(app, services);
  workerRoutes(app, services);
  healthRoutes(app, services, lifecycle, () => ({ config: { tollgate: false } }));
  metricsRoute(app, services);
  // A route in the policy file that the service does not have is a typo that would leave a
  // real route unprotected: refuse to start.
  const unmatched = services.policies.unmatchedRoutes(registered);
  if (unmatched.length > 0) {
    throw new Error(`policies.yaml names routes this service does not have: ${unmatched.join(', ')}`);
  }

  const sweeper = idempotencySweeper(config, services.database, metrics.registry, app.log);
  app.addHook('onReady', async () => sweeper.start());
  app.addHook('onClose', () => sweeper.stop());
  return app;
}
