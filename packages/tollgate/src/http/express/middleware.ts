import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { asBuffer, BodyCapture } from '../capture.ts';
import { Exchange } from '../exchange.ts';
import { Gate } from '../gate.ts';
import {
  type GateLogger,
  routeSettingsOf,
  type TollgateOptions,
  type TollgateRouteOptions,
  unknownRoutesError,
} from '../options.ts';
import type { HttpAnswer } from '../problem.ts';
import { RouteGate } from '../route-gate.ts';

/** Options of the Express middleware: the shared options, plus a logger (Express has none). */
export interface ExpressTollgateOptions extends TollgateOptions<Request> {
  /** Where decisions (policy, decision, key hash — never a raw key) and store faults are logged. @default none */
  readonly logger?: GateLogger;
}

/**
 * Makes the middleware of one route: from its settings (the same as Fastify's
 * `config.tollgate`), from the policy file's row for `'METHOD /template'`, or both.
 */
export interface TollgateMiddleware {
  (route?: TollgateRouteOptions): RequestHandler;
  (route: string, own?: TollgateRouteOptions): RequestHandler;
  /**
   * Throws when the policy file names a route no `gate('METHOD /template')` was made for.
   * Call it once every route is registered.
   */
  verify(): void;
}

/**
 * tollgate for Express: create it once with stores and defaults, then put `gate(settings)` in
 * each route, after body parsing. Per request it asks `principal` (your authentication), then
 * decides the request in one admission — every limit and the idempotency key together — and
 * captures what the handler writes (`res.json`, `res.send`, `res.write`/`res.end`, piped
 * streams) to complete the claim before the response ends. With a policy `document`,
 * `gate('POST /api/votes')` takes the route's settings from the file.
 *
 * @example
 * const gate = tollgate({ principal: (req) => req.get('x-account') });
 * app.post('/payments', express.json(), gate({ idempotency: 'required' }), handler);
 */
export function tollgate(options: ExpressTollgateOptions = {}): TollgateMiddleware {
  const gate = new Gate<Request>(options, options.logger);
  const named = new Set<string>();
  const middleware = (route?: TollgateRouteOptions | string, own?: TollgateRouteOptions): RequestHandler => {
    let settings = typeof route === 'string' ? own : route;
    if (typeof route === 'string') {
      named.add(route);
      const space = route.indexOf(' ');
      settings = routeSettingsOf(
        options.document?.routeOptions(route.slice(0, space), route.slice(space + 1)),
        own,
      );
    }
    const routeGate = new RouteGate(gate, settings);
    return (req, res, next) => {
      // The route template, so `/payments/1` and `/payments/2` share a route's counters and scope.
      const path = req.baseUrl + (typeof req.route?.path === 'string' ? req.route.path : req.path);
      const exchange = new Exchange(req.method, path, req.ip, options.logger);
      res.locals.tollgate = exchange;
      run(gate, routeGate, exchange, req, res).then((answer) => {
        if (answer) send(res, answer);
        else next();
      }, next as NextFunction);
    };
  };
  return Object.assign(middleware as TollgateMiddleware, {
    verify() {
      const unknown = options.document?.unmatchedRoutes(named) ?? [];
      if (unknown.length > 0) throw unknownRoutesError(unknown);
    },
  });
}

async function run(
  gate: Gate<Request>,
  routeGate: RouteGate<Request>,
  exchange: Exchange,
  req: Request,
  res: Response,
): Promise<HttpAnswer | undefined> {
  if (routeGate.protects) {
    exchange.principal = await gate.principal(req);
    const answer = await routeGate.admit(exchange, {
      headers: req.headers,
      body: req.body,
      params: req.params as Record<string, string | undefined>,
    });
    if (answer) return answer;
    routeGate.endsWith(exchange, res);
  }
  for (const [name, value] of Object.entries(gate.headers(exchange))) res.setHeader(name, value);
  // A claim held now, or one the handler will take (`claim: 'handler'`): completed or released
  // with what the handler sends.
  if (exchange.claim || exchange.begin) capture(routeGate, exchange, res);
  return undefined;
}

type Write = (chunk: unknown, encoding?: unknown, callback?: unknown) => boolean;
type End = (chunk?: unknown, encoding?: unknown, callback?: unknown) => Response;

/**
 * Copies every byte written, and holds `end` back until the claim is completed with them, so a
 * client that saw the whole response finds the key completed.
 */
function capture(routeGate: RouteGate<Request>, exchange: Exchange, res: Response): void {
  const body = new BodyCapture();
  const write = res.write as Write;
  const end = res.end as End;
  (res as { write: Write }).write = (chunk, encoding, callback) => {
    body.add(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : undefined);
    return write.call(res, chunk, encoding, callback);
  };
  (res as { end: End }).end = (chunk, encoding, callback) => {
    res.write = write as Response['write'];
    res.end = end as Response['end'];
    if (typeof chunk !== 'function') {
      body.add(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : undefined);
    }
    const response = { status: res.statusCode, headers: res.getHeaders(), body: body.bytes() };
    routeGate.finish(exchange, response).then((instead) => {
      // This request lost its claim: the client gets the key's answer, unless headers are out.
      if (instead === undefined || res.headersSent) {
        end.call(res, chunk, encoding, callback);
        return;
      }
      for (const name of res.getHeaderNames()) res.removeHeader(name);
      res.statusCode = instead.status;
      for (const [name, value] of Object.entries(instead.headers)) res.setHeader(name, value);
      end.call(res, asBuffer(instead.body), undefined, typeof callback === 'function' ? callback : undefined);
    });
    return res;
  };
}

function send(res: Response, answer: HttpAnswer): void {
  res.statusCode = answer.status;
  // setHeader, not res.set: Express would add a charset to the stored Content-Type.
  for (const [name, value] of Object.entries(answer.headers)) res.setHeader(name, value);
  res.end(asBuffer(answer.body));
}
