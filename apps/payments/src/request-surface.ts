import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { methodNotAllowed } from '@tollgate/service-kit/method-not-allowed';
import type { FastifyInstance } from 'fastify';
import { registerJsonBody } from './json-body.ts';
import { errorHandler, notFoundHandler } from './problem.ts';

/**
 * Request ids a client may choose (`X-Request-Id`); anything else gets a fresh UUID. The id is
 * echoed, logged and written to the audit trail, so it is short and plain.
 */
const requestIdPattern = /^[A-Za-z0-9._-]{1,64}$/;

/** The request's id (Fastify's `genReqId`): the client's `X-Request-Id` when plain, else a UUID. */
export function requestIdOf(request: IncomingMessage): string {
  const given = request.headers['x-request-id'];
  return typeof given === 'string' && requestIdPattern.test(given) ? given : randomUUID();
}

/**
 * What every Fastify instance of the service reads requests with — the public app and the
 * private simulation target alike: the request fields the routes fill in, RFC 9457 problems
 * for every error and unknown route (405 with `Allow` for a known path's other methods), and JSON as the only body (a text body is 415, not a
 * string that fails the schema; the strict parser refuses what it would change).
 */
export function requestSurface(app: FastifyInstance): void {
  app.decorateRequest('principal', undefined);
  app.decorateRequest('outcome', undefined);
  app.decorateRequest('amountMinor', undefined);
  app.setErrorHandler(errorHandler);
  const notAllowed = methodNotAllowed(app);
  app.setNotFoundHandler((request, reply) => notAllowed(request, reply) ?? notFoundHandler(request, reply));
  app.removeContentTypeParser('text/plain');
  registerJsonBody(app);
}
