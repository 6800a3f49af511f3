import { PassThrough, type Readable } from 'node:stream';
import type {
  FastifyPluginCallback,
  FastifyReply,
  FastifyRequest,
  onSendHookHandler,
  preHandlerHookHandler,
  RouteOptions,
} from 'fastify';
import fp from 'fastify-plugin';
import { asBuffer, BodyCapture } from '../capture.ts';
import { Exchange } from '../exchange.ts';
import { Gate } from '../gate.ts';
import {
  routeSettingsOf,
  type TollgateOptions,
  type TollgateRouteOptions,
  unknownRoutesError,
} from '../options.ts';
import type { HttpAnswer } from '../problem.ts';
import { RouteGate } from '../route-gate.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** This route's tollgate settings; `false` leaves the route out of plugin-wide policies. */
    tollgate?: TollgateRouteOptions | false;
  }
  interface FastifyRequest {
    /** The request's way through tollgate (its claim, its decisions); null on unprotected routes. */
    tollgate: Exchange | null;
  }
}

/** Options of the Fastify plugin: the shared options, with the principal read from a request. */
export interface FastifyTollgateOptions extends TollgateOptions<FastifyRequest> {
  /**
   * Plugin-wide `policies` apply to every route registered after the plugin (set
   * `config: { tollgate: false }` to leave one out); with `false`, only to routes that have
   * `config.tollgate`.
   * @default true
   */
  readonly global?: boolean;
}

const plugin: FastifyPluginCallback<FastifyTollgateOptions> = (fastify, options, done) => {
  let gate: Gate<FastifyRequest>;
  try {
    gate = new Gate<FastifyRequest>(options, fastify.log);
  } catch (error) {
    // Options that cannot work fail the registration at once (a throw here would only time out).
    done(error as Error);
    return;
  }
  const everyRoute = (options.global ?? true) && (options.policies?.length ?? 0) > 0;
  if (!fastify.hasRequestDecorator('tollgate')) fastify.decorateRequest('tollgate', null);
  const registered = new Set<string>();
  fastify.addHook('onRoute', (route) => {
    const own = route.config?.tollgate;
    if (own === false) return;
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) registered.add(`${method} ${route.url}`);
    const method = methods.find((one) => one !== 'HEAD') ?? methods[0]!;
    const config = routeSettingsOf(options.document?.routeOptions(method, route.url), own);
    if (config === undefined && !everyRoute) return;
    protect(route, gate, new RouteGate(gate, config));
  });
  if (options.document) {
    const document = options.document;
    fastify.addHook('onReady', async () => {
      const unknown = document.unmatchedRoutes(registered);
      if (unknown.length > 0) throw unknownRoutesError(unknown);
    });
  }
  done();
};

/**
 * tollgate for Fastify: rate limits and idempotency keys per route, from `config.tollgate`.
 * Last in the route's `preHandler` (after your authentication and validation) it reads the
 * principal and decides the request in one admission — every limit and the idempotency key
 * together; the response is captured in `onSend`, streams included, to complete the claim.
 *
 * @example
 * await app.register(tollgate, { principal: (request) => request.headers['x-account'] as string });
 * app.post('/payments', { config: { tollgate: { idempotency: 'required' } } }, handler);
 */
export const tollgate = fp(plugin, { fastify: '5.x', name: 'tollgate' });

/** Adds the route's hooks: only the ones its settings need. */
function protect(
  route: RouteOptions,
  gate: Gate<FastifyRequest>,
  routeGate: RouteGate<FastifyRequest>,
): void {
  const exchangeOf = (request: FastifyRequest): Exchange =>
    (request.tollgate ??= new Exchange(
      request.method,
      request.routeOptions.url ?? route.url,
      request.ip,
      request.log,
    ));

  /** What `step` answers once the request's principal is in its exchange. */
  const identified = <T>(request: FastifyRequest, step: () => Promise<T>): Promise<T> => {
    const exchange = exchangeOf(request);
    return Promise.resolve(gate.principal(request)).then((principal) => {
      exchange.principal = principal;
      return step();
    });
  };
  const params = (request: FastifyRequest) => request.params as Record<string, string | undefined>;

  const admit: preHandlerHookHandler = (request, reply, next) => {
    const exchange = exchangeOf(request);
    identified(request, () =>
      routeGate.admit(exchange, { headers: request.headers, body: request.body, params: params(request) }),
    ).then((answer) => {
      if (answer) send(reply, answer);
      else {
        routeGate.endsWith(exchange, reply.raw);
        reply.headers(gate.headers(exchange));
        next();
      }
    }, next);
  };
  if (routeGate.protects) route.preHandler = [...hooks(route.preHandler), admit];

  if (routeGate.countsRequests) {
    // A 4xx sent before the admission (validation, an earlier hook) pays the request policies.
    const charge: onSendHookHandler = (request, reply, payload, next) => {
      const status = reply.statusCode;
      if (request.tollgate !== null || status < 400 || status >= 500 || status === 429) {
        return next(null, payload);
      }
      const exchange = exchangeOf(request);
      identified(request, () =>
        routeGate.refused(exchange, { body: request.body, params: params(request) }),
      ).then((limited) => {
        if (limited === undefined) {
          reply.headers(gate.headers(exchange));
          return next(null, payload);
        }
        replace(reply, limited);
        next(null, asBuffer(limited.body));
      }, next);
    };
    route.onSend = [...hooks(route.onSend), charge];
  }

  if (routeGate.idempotent) {
    const capture: onSendHookHandler = (request, reply, payload, next) => {
      const exchange = request.tollgate;
      if (!exchange?.claim) return next(null, payload);
      const response = { status: reply.statusCode, headers: reply.getHeaders() };
      if (isStream(payload)) {
        return next(
          null,
          tap(
            payload,
            // Headers are gone by the end of a stream: a lost claim can only be logged and counted.
            (body) => routeGate.finish(exchange, { ...response, body }).then(() => undefined),
            () => void routeGate.abandon(exchange),
          ),
        );
      }
      const body = new BodyCapture();
      body.add(payload);
      routeGate.finish(exchange, { ...response, body: body.bytes() }).then((instead) => {
        if (instead === undefined) return next(null, payload);
        // This request lost its claim: the client gets the key's answer, not this one.
        replace(reply, instead);
        next(null, asBuffer(instead.body));
      }, next);
    };
    route.onSend = [...hooks(route.onSend), capture];
  }
}

/** Sends `answer` instead of the response being sent (only its request id stays). */
function replace(reply: FastifyReply, answer: HttpAnswer): void {
  for (const name of Object.keys(reply.getHeaders())) {
    if (name !== 'x-request-id') reply.removeHeader(name);
  }
  reply.code(answer.status).headers(answer.headers);
}

function send(reply: FastifyReply, answer: HttpAnswer): void {
  reply.code(answer.status).headers(answer.headers).send(asBuffer(answer.body));
}

function hooks<T>(existing: T | readonly T[] | undefined): T[] {
  return existing === undefined ? [] : Array.isArray(existing) ? [...existing] : [existing as T];
}

function isStream(payload: unknown): payload is Readable {
  return payload !== null && typeof payload === 'object' && typeof (payload as Readable).pipe === 'function';
}

/**
 * The stream as sent, with every chunk copied aside. Its end is held back until `onEnd` (the
 * completion) is done, so a client that saw the whole body finds the key completed. A client
 * that hangs up does not stop the source: the effect has happened, so the rest is read and
 * stored for the retry to replay. Only a source that fails gives the key back (`onFail`).
 */
function tap(source: Readable, onEnd: (body: Buffer) => Promise<void>, onFail: () => void): Readable {
  const body = new BodyCapture();
  const sent = new PassThrough();
  let clientGone = false;
  sent.once('close', () => {
    if (sent.writableFinished) return;
    clientGone = true;
    source.resume();
  });
  source.on('data', (chunk: Buffer) => {
    body.add(chunk);
    if (!clientGone && !sent.write(chunk)) {
      source.pause();
      sent.once('drain', () => source.resume());
    }
  });
  source.once('end', () => {
    onEnd(body.bytes()).then(
      () => clientGone || sent.end(),
      (error: unknown) => sent.destroy(error as Error),
    );
  });
  source.once('error', (error) => {
    onFail();
    sent.destroy(error);
  });
  return sent;
}
