import type { FastifyBaseLogger } from 'fastify';
import { Counter, type Registry } from 'prom-client';
import { sweepExpired } from 'tollgate/idempotency';
import type { Database } from './database/index.ts';
import { Periodic } from './periodic.ts';
import type { BackendConfig } from './settings.ts';

/**
 * Deletes expired idempotency records (never one whose lease is still alive) every
 * `IDEMPOTENCY_SWEEP_INTERVAL_MS`, `IDEMPOTENCY_SWEEP_BATCH` per statement, counting them in
 * `idempotency_records_swept_total` (registered in `registry`). It sweeps PostgreSQL or PGlite,
 * the truth: cached replays in Redis expire on their own TTL.
 */
export function idempotencySweeper(
  config: BackendConfig,
  database: Database,
  registry: Registry,
  log: FastifyBaseLogger,
): Periodic {
  const swept = new Counter({
    name: 'idempotency_records_swept_total',
    help: 'Expired idempotency records deleted by the sweeper.',
    registers: [registry],
  });
  return new Periodic(
    config.IDEMPOTENCY_SWEEP_INTERVAL_MS,
    async () => {
      const count = await sweepExpired(database.idempotency, { batchSize: config.IDEMPOTENCY_SWEEP_BATCH });
      swept.inc(count);
      if (count > 0) log.debug({ swept: count }, 'swept expired idempotency records');
    },
    (error) => log.warn({ err: error }, 'idempotency sweep failed'),
  );
}
