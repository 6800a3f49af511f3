import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { findPayment, toPayment } from '../payments.ts';
import { sendProblem, serviceProblems } from '../problem.ts';
import { AuthHeaders, Payment, ProblemDocument } from '../schemas.ts';
import type { Services } from '../services.ts';
import { authenticate } from './authenticate.ts';

/** `GET /api/v1/payments/:transaction_id`: the caller's own payment; any other id is 404. */
export function readPaymentRoute(app: FastifyInstance, services: Services): void {
  app.get(
    '/api/v1/payments/:transaction_id',
    {
      onRequest: authenticate(services),
      config: { tollgate: {} },
      schema: {
        summary: "Read one of the caller's payments.",
        tags: ['payments'],
        headers: AuthHeaders,
        // Ids are ASCII: anything else (a NUL, a lone surrogate) is a 400 before any query.
        params: Type.Object({ transaction_id: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' }) }),
        response: { 200: Payment, '4xx': ProblemDocument },
      },
    },
    async (request, reply) => {
      const { transaction_id: id } = request.params as { transaction_id: string };
      const row = await findPayment(services.database, id, request.principal!);
      if (row === undefined) {
        return sendProblem(reply, {
          ...serviceProblems['not-found'],
          detail: `You have no payment ${id}.`,
        });
      }
      return reply.type('application/json; charset=utf-8').send(JSON.stringify(toPayment(row)));
    },
  );
}
