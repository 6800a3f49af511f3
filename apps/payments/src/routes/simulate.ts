import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { parseIdempotencyKey } from 'tollgate/idempotency';
import { Type } from 'typebox';
import { sendProblem } from '../problem.ts';
import { AuthHeaders, PaymentRequest } from '../schemas.ts';
import type { Services } from '../services.ts';
import { authenticate } from './authenticate.ts';

/** Bounds of `concurrent_count`. */
export const SIMULATION = { min: 1, max: 50, default: 10 } as const;

/**
 * `POST /api/v1/simulate-concurrent?concurrent_count=N`: sends N copies of the caller's payment
 * (same Authorization, Idempotency-Key and body) at once to this service's own address, over
 * HTTP through the whole stack, and reports what came back.
 */
export function simulateRoute(app: FastifyInstance, services: Services): void {
  app.post(
    '/api/v1/simulate-concurrent',
    {
      onRequest: authenticate(services.keys),
      config: { tollgate: {} },
      schema: {
        summary:
          'Fire N concurrent copies of a payment request with one Idempotency-Key and report the answers.',
        tags: ['testing'],
        headers: AuthHeaders,
        querystring: Type.Object(
          { concurrent_count: Type.Optional(Type.String({ pattern: '^[0-9]{1,2}$' })) },
          { additionalProperties: false },
        ),
        body: PaymentRequest,
      },
    },
    async (request, reply) => {
      const count = Number(
        (request.query as { concurrent_count?: string }).concurrent_count ?? SIMULATION.default,
      );
      if (count < SIMULATION.min || count > SIMULATION.max) {
        return sendProblem(reply, {
          slug: 'invalid-request',
          title: 'Invalid Request',
          status: 400,
          detail: `concurrent_count must be from ${SIMULATION.min} to ${SIMULATION.max}.`,
          errors: [
            {
              in: 'querystring',
              field: '/concurrent_count',
              message: `must be ${SIMULATION.min}-${SIMULATION.max}`,
            },
          ],
        });
      }
      const key = parseIdempotencyKey(request.headers['idempotency-key']);
      if (!key.ok) {
        return sendProblem(reply, {
          slug: 'idempotency-key-missing',
          title: 'Bad Idempotency Key',
          status: 400,
          detail: key.error.message,
        });
      }
      const address = app.server.address() as AddressInfo;
      const host =
        address.family === 'IPv6'
          ? `[${loopback(address.address, '::1')}]`
          : loopback(address.address, '127.0.0.1');
      const url = `http://${host}:${address.port}/api/v1/payments`;
      const headers = {
        'content-type': 'application/json',
        authorization: request.headers.authorization!,
        'idempotency-key': request.headers['idempotency-key'] as string,
      };
      const body = JSON.stringify(request.body);
      const started = performance.now();
      const results = await Promise.all(
        Array.from({ length: count }, async () => {
          const response = await fetch(url, { method: 'POST', headers, body }).catch(
            () => new Response(null, { status: 502 }),
          );
          const json = (await response.json().catch(() => ({}))) as { transaction_id?: string };
          return {
            status: response.status,
            replayed: response.headers.get('idempotent-replayed') === 'true',
            transaction_id: json.transaction_id ?? null,
          };
        }),
      );
      const tally = (test: (r: (typeof results)[number]) => boolean) => results.filter(test).length;
      const summary = {
        concurrent_count: count,
        processed: tally((r) => r.status < 300 && !r.replayed),
        replayed: tally((r) => r.replayed),
        conflicts: tally((r) => r.status === 409),
        rate_limited: tally((r) => r.status === 429),
        errors: tally((r) => r.status >= 400 && r.status !== 409 && r.status !== 429),
        transaction_ids: [...new Set(results.map((r) => r.transaction_id).filter((id) => id !== null))],
        duration_ms: Math.round(performance.now() - started),
        results,
      };
      return reply.type('application/json; charset=utf-8').send(JSON.stringify(summary));
    },
  );
}

/** The address to call this server on: itself, or loopback when it listens on every interface. */
function loopback(address: string, fallback: string): string {
  return address === '0.0.0.0' || address === '::' ? fallback : address;
}
