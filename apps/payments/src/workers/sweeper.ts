import type { FastifyBaseLogger } from 'fastify';
import { sweepExpired } from 'tollgate/idempotency';
import type { Services } from '../services.ts';
import { Periodic } from './periodic.ts';

/**
 * Deletes expired idempotency records (never one whose lease is still alive) every
 * `IDEMPOTENCY_SWEEP_INTERVAL_MS`, `IDEMPOTENCY_SWEEP_BATCH` per statement, counting them in
 * `idempotency_records_swept_total`. It sweeps PostgreSQL or PGlite, the truth: cached
 * replays in Redis expire on their own TTL.
 */
export function idempotencySweeper(services: Services, log: FastifyBaseLogger): Periodic {
  const { config, database, metrics } = services;
  return new Periodic(
    config.IDEMPOTENCY_SWEEP_INTERVAL_MS,
    async () => {
      const swept = await sweepExpired(database.idempotency, { batchSize: config.IDEMPOTENCY_SWEEP_BATCH });
      metrics.swept.inc(swept);
      if (swept > 0) log.debug({ swept }, 'swept expired idempotency records');
    },
    (error) => log.warn({ err: error }, 'idempotency sweep failed'),
  );
}
