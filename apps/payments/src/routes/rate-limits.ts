import type { FastifyInstance } from 'fastify';
import { definePolicy } from 'tollgate';
import { PAYMENTS_ROUTE, servicePolicies } from '../limits.ts';
import { sendProblem, serviceProblems } from '../problem.ts';
import { AuthHeaders } from '../schemas.ts';
import type { Services } from '../services.ts';
import { authenticate } from './authenticate.ts';

/**
 * `GET /api/v1/rate-limits`: the caller's state for every policy, read with `peek` — asking
 * costs nothing, so the route itself is not counted.
 */
export function rateLimitsRoute(app: FastifyInstance, services: Services): void {
  const { all, payments } = servicePolicies(services.config);
  const policies = [...all, ...payments].map((options) => definePolicy(options));
  app.get(
    '/api/v1/rate-limits',
    {
      onRequest: authenticate(services),
      schema: {
        summary: "The caller's rate-limit state per policy (consumes nothing).",
        tags: ['configuration'],
        headers: AuthHeaders,
      },
    },
    async (request, reply) => {
      const result = await services.limitsView.peek({
        ip: request.ip,
        principal: request.principal,
        route: PAYMENTS_ROUTE,
      });
      // The counters could not be read: say so, rather than report every limit as untouched.
      if (result.reason === 'store-unavailable') {
        return sendProblem(reply.header('retry-after', '1'), {
          ...serviceProblems['rate-limits-unavailable'],
          detail: 'The rate-limit counters cannot be read right now. Retry after 1 s.',
          retry_after: 1,
        });
      }
      const body = {
        principal: request.principal,
        policies: result.policies.map((state) => {
          const policy = policies.find((p) => p.name === state.name)!;
          return {
            name: state.name,
            algorithm: policy.algorithm,
            scope: policy.subject.length === 0 ? 'global' : policy.subject.join('+'),
            limit: state.limit,
            window_seconds: state.windowSeconds,
            ...(policy.algorithm === 'token-bucket' && { burst: policy.burst }),
            remaining: state.remaining,
            reset_seconds: state.resetSeconds,
          };
        }),
      };
      return reply.type('application/json; charset=utf-8').send(JSON.stringify(body));
    },
  );
}
