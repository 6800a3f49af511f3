import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { rateLimitHeaders } from 'tollgate';
import { limitedAnswer } from 'tollgate/fastify';
import { sendProblem, serviceProblems } from '../problem.ts';
import type { Services } from '../services.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The caller, once `Authorization: Bearer <key>` was accepted. */
    principal: string | undefined;
  }
}

/**
 * The route hook that answers 401 problem+json unless the request carries a known API key.
 * A request without one pays `per-ip` (see `failedAuthPolicy`): once its address has spent it,
 * 429 instead, so keys cannot be guessed at full speed. A caller whose key is valid never
 * touches that limit. (Callback style, like the service's other per-request hooks: no promise
 * per accepted request.)
 */
export function authenticate(services: Pick<Services, 'keys' | 'failedAuth'>) {
  return (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void => {
    // Node keeps the first of two Authorization headers; a proxy in front may keep the last, and
    // the two would disagree on who is calling: two is no valid key at all.
    const repeated = authorizations(request.raw.rawHeaders) > 1;
    const principal = repeated ? undefined : services.keys.principalOf(request.headers.authorization);
    if (principal !== undefined) {
      request.principal = principal;
      done();
      return;
    }
    services.failedAuth.check({ ip: request.ip }).then((limits) => {
      const headers = rateLimitHeaders(limits);
      if (!limits.allowed) {
        const answer = limitedAnswer(limits, headers);
        return reply.code(answer.status).headers(answer.headers).send(answer.body);
      }
      reply.headers(headers);
      if (repeated) {
        return sendProblem(reply, {
          ...serviceProblems['invalid-request'],
          detail: 'Send one Authorization header, not several.',
          errors: [{ in: 'headers', field: '/authorization', message: 'must appear once' }],
        });
      }
      reply.header('www-authenticate', 'Bearer realm="payments"');
      return sendProblem(reply, {
        ...serviceProblems['unauthorized'],
        detail: 'Send a valid API key as "Authorization: Bearer <key>".',
      });
    }, done);
  };
}

/** How many Authorization headers a request has (`rawHeaders`: name, value, name, value…). */
function authorizations(rawHeaders: readonly string[]): number {
  let count = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (rawHeaders[i]!.length === 13 && rawHeaders[i]!.toLowerCase() === 'authorization') count++;
  }
  return count;
}
