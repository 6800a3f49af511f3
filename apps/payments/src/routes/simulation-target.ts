import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyBaseLogger } from 'fastify';
import { tollgate } from 'tollgate/fastify';
import { servicePolicies } from '../limits.ts';
import { countResponses } from '../metrics.ts';
import { sendProblem, serviceProblems } from '../problem.ts';
import { requestIdOf, requestSurface } from '../request-surface.ts';
import type { Services } from '../services.ts';
import { createPaymentRoute } from './create-payment.ts';

/** Where `simulate-concurrent` sends its copies, and the secret that only it knows. */
export interface SimulationTarget {
  /** `http://127.0.0.1:<port>/api/v1/payments` */
  readonly url: string;
  /** Sent as `x-simulation-token`; any request without it is 404. */
  readonly token: string;
  close(): Promise<void>;
}

/**
 * A second listener, on loopback only, that serves `POST /api/v1/payments` with the same
 * handler, stores and idempotency scope as the public one, but counts only the caller's own
 * limits (every policy whose subject includes the principal: `per-user`, `burst`,
 * `payments`). A simulation's copies are thus charged to the caller and never to `global`,
 * which every caller shares. Only this process can reach it: it requires a random token.
 *
 * tollgate has no seam to leave a plugin-wide policy out of one request (only out of a
 * route), hence the separate listener rather than a flag on the public route.
 */
export async function openSimulationTarget(
  services: Services,
  log: FastifyBaseLogger,
): Promise<SimulationTarget> {
  const token = randomBytes(24).toString('base64url');
  const expected = Buffer.from(token);
  // Each copy carries its own id, derived from the simulation's (see `simulate.ts`).
  const target = Fastify({ loggerInstance: log, bodyLimit: 1_048_576, genReqId: requestIdOf });
  requestSurface(target);
  target.addHook('onRequest', async (request, reply) => {
    const given = Buffer.from(String(request.headers['x-simulation-token'] ?? ''));
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      return sendProblem(reply, { ...serviceProblems['not-found'], detail: 'Not found.' });
    }
  });
  const { all } = servicePolicies(services.config);
  countResponses(target, services.metrics);
  await target.register(tollgate, {
    metrics: services.metrics.registry,
    rateLimitStore: services.rateLimitStore,
    idempotencyStore: services.idempotencyStore,
    policies: all.filter((policy) => policy.subject?.includes('principal')),
    global: false,
    principal: (request) => request.principal,
  });
  createPaymentRoute(target, services);
  await target.listen({ port: 0, host: '127.0.0.1' });
  const { port } = target.server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/api/v1/payments`, token, close: () => target.close() };
}
