import { setTimeout as sleep } from 'node:timers/promises';
import { DATABASE_RETRY_AFTER_SECONDS, type Lifecycle } from '@tollgate/service-kit/health';
import type { InFlight } from '@tollgate/service-kit/in-flight';
import type { FastifyInstance } from 'fastify';
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
  if (!drained) {
    const refused = inFlight.refuseAll(DATABASE_RETRY_AFTER_SECONDS);
    app.log.warn(
      { released: released.length, refused },
      'drain timed out; released open claims, answered 503',
    );
    // A second for those answers to be written (a connection still sending its request is not waited for).
    await Promise.race([closed, sleep(1000)]);
  }
  await services.close();
  app.log.info({ released: released.length }, 'stopped');
}
