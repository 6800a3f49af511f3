import { randomUUID } from 'node:crypto';
import { Periodic } from '@tollgate/service-kit/periodic';
import type { FastifyBaseLogger } from 'fastify';
import { appendAudit } from '../audit.ts';
import { findAbandoned, type PaymentRow, settlePayment } from '../payments.ts';
import { ProcessorError } from '../processor.ts';
import type { Services } from '../services.ts';

/**
 * The completer of the atomic phases: every `RECOVERY_INTERVAL_MS`, payments still pending
 * `RECOVERY_AFTER_MS` after their last write — their request crashed after phase 1, or the
 * processor failed and the client never retried — are charged again with their own downstream
 * key (the processor charges at most once per key, so a charge that already happened is found,
 * not repeated), then settled and audited as `payment.recovered` in one transaction. A request
 * or another process settling the same payment meanwhile is harmless: only a pending payment
 * is settled, and only the one that settles it writes the audit row.
 */
export function recoveryWorker(services: Services, log: FastifyBaseLogger): Periodic {
  const { config, database, processor, metrics } = services;
  const recover = async (row: PaymentRow, requestId: string) => {
    const outcome = await processor.charge({
      idempotencyKey: row.downstream_key,
      amountMinor: BigInt(row.amount_minor),
      currency: row.currency,
    });
    const declineCode = outcome.outcome === 'declined' ? outcome.declineCode : null;
    const settled = await database.transaction(async (tx) => {
      const done = await settlePayment(tx, row.transaction_id, {
        status: outcome.outcome,
        chargeId: outcome.chargeId,
        declineCode,
      });
      if (done === undefined) return false;
      await appendAudit(tx, {
        principal: row.principal,
        action: 'payment.recovered',
        transactionId: row.transaction_id,
        requestId,
        details: {
          status: outcome.outcome,
          charge_id: outcome.chargeId,
          ...(declineCode && { decline_code: declineCode }),
        },
      });
      return true;
    });
    if (settled) metrics.recovered.inc({ outcome: outcome.outcome });
  };
  return new Periodic(
    config.RECOVERY_INTERVAL_MS,
    async () => {
      const rows = await findAbandoned(database, config.RECOVERY_AFTER_MS, config.RECOVERY_BATCH);
      const requestId = `recovery-${randomUUID()}`;
      for (const row of rows) {
        try {
          await recover(row, requestId);
        } catch (error) {
          // The processor still fails: the payment stays pending for the next round.
          if (!(error instanceof ProcessorError)) throw error;
          log.warn({ err: error, transactionId: row.transaction_id }, 'recovery: processor failed');
        }
      }
    },
    (error) => log.warn({ err: error }, 'recovery round failed'),
  );
}
