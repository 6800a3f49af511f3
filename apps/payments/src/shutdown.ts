import type { Lifecycle } from '@tollgate/service-kit/health';
import type { FastifyInstance } from 'fastify';
import type { Services } from './services.ts';

/**
 * Graceful stop: readiness fails, the server stops accepting and waits for requests in flight
 * (up to `SHUTDOWN_TIMEOUT_MS`); claims still held then are released — keeping their
 * checkpoints — so a retry elsewhere resumes at once instead of waiting out the lease; then
 * the pools close.
 */
export async function shutdown(
  app: FastifyInstance,
  services: Services,
  lifecycle: Lifecycle,
  signal: string,
): Promise<void> {
  lifecycle.draining = true;
  app.log.info({ signal, inFlight: services.openClaims.size }, 'draining');
  const closed = app.close();
  const drained = await Promise.race([
    closed.then(() => true),
    new Promise<boolean>((resolve) =>
      setTimeout(resolve, services.config.SHUTDOWN_TIMEOUT_MS, false).unref(),
    ),
  ]);
  const released = [...services.openClaims];
  services.openClaims.clear();
  // Outside the transaction that claimed them, which has long committed.
  await Promise.allSettled(released.map((claim) => claim.atHome().release()));
  if (!drained) app.log.warn({ released: released.length }, 'drain timed out; released open claims');
  await services.close();
  app.log.info({ released: released.length }, 'stopped');
}
