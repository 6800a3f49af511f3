import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Sql } from '@tollgate/service-kit/database';
import type { Config } from './config.ts';
import { queries } from './sql/queries.ts';

/** What the processor says about a charge. */
export type ChargeOutcome =
  | { readonly outcome: 'succeeded'; readonly chargeId: string }
  | { readonly outcome: 'declined'; readonly chargeId: string; readonly declineCode: string };

/** A charge request: the downstream idempotency key makes every retry the same charge. */
export interface ChargeRequest {
  readonly idempotencyKey: string;
  readonly amountMinor: bigint;
  readonly currency: string;
}

/** The processor failed or timed out: whether the charge happened is unknown to the caller. */
export class ProcessorError extends Error {
  readonly code = 'ERR_PROCESSOR_UNAVAILABLE';
}

/** Fault injection: latency, failures and declines (rates in [0, 1]). */
export interface ProcessorFaults {
  readonly latencyMs: number;
  readonly failureRate: number;
  readonly declineRate: number;
}

/** The faults the configuration asks for. */
export function faultsFrom(config: Config): ProcessorFaults {
  return {
    latencyMs: config.PROCESSOR_LATENCY_MS,
    failureRate: config.PROCESSOR_FAILURE_RATE,
    declineRate: config.PROCESSOR_DECLINE_RATE,
  };
}

/**
 * A simulated payment processor, idempotent on its key like a real one (Stripe's
 * `Idempotency-Key`): its ledger `processor_charges` holds one row per key, so charging the
 * same key again — after a timeout, from another process, after a crash — finds the first
 * charge instead of making a second. Failures strike before or after the charge is recorded
 * (a lost response), so callers must retry with the same key to be safe.
 */
export class Processor {
  constructor(
    private readonly ledger: Sql,
    private readonly faults: ProcessorFaults,
    private readonly random: () => number = Math.random,
  ) {}

  async charge(request: ChargeRequest): Promise<ChargeOutcome> {
    const { latencyMs, failureRate, declineRate } = this.faults;
    if (latencyMs > 0) await sleep(latencyMs);
    const fails = this.random() < failureRate;
    if (fails && this.random() < 0.5)
      throw new ProcessorError('the processor did not answer (nothing charged)');
    const declined = this.random() < declineRate;
    const [created] = await this.ledger.query<ChargeRow>(queries.recordCharge, [
      request.idempotencyKey,
      `ch_${randomUUID().replaceAll('-', '')}`,
      request.amountMinor.toString(),
      request.currency,
      declined ? 'declined' : 'succeeded',
      declined ? 'insufficient_funds' : null,
    ]);
    const [row] = created
      ? [created]
      : await this.ledger.query<ChargeRow>(queries.findCharge, [request.idempotencyKey]);
    if (row === undefined) throw new ProcessorError('the processor lost a charge it recorded');
    if (fails) throw new ProcessorError('the processor timed out after charging');
    return row.outcome === 'declined'
      ? { outcome: 'declined', chargeId: row.charge_id, declineCode: row.decline_code ?? 'declined' }
      : { outcome: 'succeeded', chargeId: row.charge_id };
  }
}

interface ChargeRow {
  charge_id: string;
  outcome: 'succeeded' | 'declined';
  decline_code: string | null;
}
