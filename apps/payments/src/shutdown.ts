import type { Lifecycle } from '@tollgate/service-kit/health';
import { drain, type InFlight } from '@tollgate/service-kit/in-flight';
import type { FastifyInstance } from 'fastify';
import type { Claim } from 'tollgate/idempotency';
import type { Services } from './services.ts';

/**
 * Graceful stop: readiness fails, the server stops accepting and waits for requests in flight
 * (up to `SHUTDOWN_TIMEOUT_MS`); claims still held then are released — keeping their
 * checkpoints — so a retry elsewhere resumes at once instead of waiting out the lease, and the
 * requests still unanswered get 503 + `Retry-After` rather than a reset connection; then the
 * pools close.
 */
export async function shutdown(
  app: FastifyInstance,
  services: Services,
  lifecycle: Lifecycle,
  inFlight: InFlight,
  signal: string,
): Promise<void> {
  lifecycle.draining = true;
  app.log.info({ signal, inFlight: services.openClaims.size }, 'draining');
  let released: Claim[] = [];
  // Outside the transaction that claimed them, which has long committed.
  const release = async () => {
    released = [...services.openClaims];
    services.openClaims.clear();
    await Promise.allSettled(released.map((claim) => claim.atHome().release()));
  };
  if (await drain(app, inFlight, services.config.SHUTDOWN_TIMEOUT_MS, release)) await release();
  else app.log.warn({ released: released.length }, 'released the open claims of the drain');
  await services.close();
  app.log.info({ released: released.length }, 'stopped');
}
