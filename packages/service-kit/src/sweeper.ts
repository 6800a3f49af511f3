import type { FastifyBaseLogger } from 'fastify';
import { sweepExpired } from 'tollgate/idempotency';
import type { Database } from './database/index.ts';
import { Periodic } from './periodic.ts';
import type { BackendConfig } from './settings.ts';

/**
 * Deletes expired idempotency records (never one whose lease is still alive) every
 * `IDEMPOTENCY_SWEEP_INTERVAL_MS`, `IDEMPOTENCY_SWEEP_BATCH` per statement, telling `swept` how
 * many went (a metric). It sweeps PostgreSQL or PGlite, the truth: cached replays in Redis
 * expire on their own TTL.
 */
export function idempotencySweeper(
  config: BackendConfig,
  database: Database,
  swept: (count: number) => void,
  log: FastifyBaseLogger,
): Periodic {
  return new Periodic(
    config.IDEMPOTENCY_SWEEP_INTERVAL_MS,
    async () => {
      const count = await sweepExpired(database.idempotency, { batchSize: config.IDEMPOTENCY_SWEEP_BATCH });
      swept(count);
      if (count > 0) log.debug({ swept: count }, 'swept expired idempotency records');
    },
    (error) => log.warn({ err: error }, 'idempotency sweep failed'),
  );
}
