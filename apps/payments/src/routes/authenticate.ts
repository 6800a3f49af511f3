import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import type { ApiKeys } from '../auth.ts';
import { sendProblem, serviceProblems } from '../problem.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The caller, once `Authorization: Bearer <key>` was accepted. */
    principal: string | undefined;
  }
}

/**
 * The route hook that answers 401 problem+json unless the request carries a known API key.
 * (Callback style, like the service's other per-request hooks: no promise per request.)
 */
export function authenticate(keys: ApiKeys) {
  return (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void => {
    const principal = keys.principalOf(request.headers.authorization);
    if (principal === undefined) {
      reply.header('www-authenticate', 'Bearer realm="payments"');
      sendProblem(reply, {
        ...serviceProblems['unauthorized'],
        detail: 'Send a valid API key as "Authorization: Bearer <key>".',
      });
      return;
    }
    request.principal = principal;
    done();
  };
}
