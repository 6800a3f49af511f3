import type { FastifyInstance } from 'fastify';
import { registerJsonBody } from './json-body.ts';
import { errorHandler, notFoundHandler } from './problem.ts';

/**
 * What every Fastify instance of the service reads requests with — the public app and the
 * private simulation target alike: the request fields the routes fill in, RFC 9457 problems
 * for every error and unknown route, and JSON as the only body (a text body is 415, not a
 * string that fails the schema; the strict parser refuses what it would change).
 */
export function requestSurface(app: FastifyInstance): void {
  app.decorateRequest('principal', undefined);
  app.decorateRequest('outcome', undefined);
  app.decorateRequest('amountMinor', undefined);
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler(notFoundHandler);
  app.removeContentTypeParser('text/plain');
  registerJsonBody(app);
}
