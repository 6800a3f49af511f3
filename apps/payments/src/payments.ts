import type { Sql } from '@tollgate/service-kit/database';
import type { AuditAction } from './audit.ts';
import { minorDigits, toAmount } from './money.ts';
import type { Payment } from './schemas.ts';
import { queries } from './sql/queries.ts';

/** A row of `payments` as the queries return it. */
export interface PaymentRow {
  transaction_id: string;
  principal: string;
  status: 'pending' | 'succeeded' | 'declined';
  amount_minor: string;
  currency: string;
  /** The ISO 4217 exponent `amount_minor` was written with. */
  currency_exponent: number;
  payment_method: string;
  description: string | null;
  metadata: Record<string, string>;
  downstream_key: string;
  processor_charge_id: string | null;
  decline_code: string | null;
  created_at: Date;
}

/** A payment to create in phase 1. */
export interface NewPayment {
  readonly transactionId: string;
  readonly principal: string;
  readonly amountMinor: bigint;
  readonly currency: string;
  readonly paymentMethod: string;
  readonly description: string | null;
  readonly metadata: Record<string, string>;
}

/** The processor's key for a payment: derived from it, so every retry sends the same one. */
export function downstreamKey(transactionId: string): string {
  return `payments:${transactionId}`;
}

/**
 * Phase 1: creates the pending payment and appends its `payment.created` audit row (amount,
 * currency, downstream key), in one statement.
 */
export async function insertPayment(sql: Sql, payment: NewPayment, requestId: string): Promise<PaymentRow> {
  const [row] = await sql.query<PaymentRow>(queries.insertPayment, [
    payment.transactionId,
    payment.principal,
    payment.amountMinor.toString(),
    payment.currency,
    payment.paymentMethod,
    payment.description,
    JSON.stringify(payment.metadata),
    downstreamKey(payment.transactionId),
    minorDigits(payment.currency),
    requestId,
  ]);
  return row!;
}

/** The principal's payment, or undefined (another principal's payment is not found either). */
export async function findPayment(
  sql: Sql,
  transactionId: string,
  principal: string,
): Promise<PaymentRow | undefined> {
  const [row] = await sql.query<PaymentRow>(queries.findPayment, [transactionId, principal]);
  return row;
}

/** Phase 3: records the processor's outcome on a pending payment; undefined if it was not pending. */
export async function settlePayment(
  sql: Sql,
  transactionId: string,
  outcome: { status: 'succeeded' | 'declined'; chargeId: string; declineCode: string | null },
): Promise<PaymentRow | undefined> {
  const [row] = await sql.query<PaymentRow>(queries.settlePayment, [
    transactionId,
    outcome.status,
    outcome.chargeId,
    outcome.declineCode,
  ]);
  return row;
}

/** The outcome of a charge as phase 3 records it, with the audit row that goes with it. */
export interface Settlement {
  readonly status: 'succeeded' | 'declined';
  readonly chargeId: string;
  readonly declineCode: string | null;
  readonly principal: string;
  readonly requestId: string;
  readonly action: AuditAction;
  readonly details: Record<string, unknown>;
}

/**
 * Phase 3 in one statement: records the outcome on the payment if it is still pending (the
 * settled row; undefined if it was not) and appends the audit row either way.
 */
export async function settleAudited(
  sql: Sql,
  transactionId: string,
  settlement: Settlement,
): Promise<PaymentRow | undefined> {
  const [row] = await sql.query<PaymentRow>(queries.settleAudited, [
    transactionId,
    settlement.status,
    settlement.chargeId,
    settlement.declineCode,
    settlement.principal,
    settlement.requestId,
    settlement.action,
    JSON.stringify(settlement.details),
  ]);
  return row;
}

/** A payment as the API answers it: the amount back in major units, as the client sent it. */
export function toPayment(row: PaymentRow): Payment {
  return {
    transaction_id: row.transaction_id,
    status: row.status,
    amount: toAmount(BigInt(row.amount_minor), row.currency_exponent),
    currency: row.currency,
    payment_method: row.payment_method,
    description: row.description,
    metadata: row.metadata,
    ...(row.decline_code !== null && { decline_code: row.decline_code }),
    created_at: new Date(row.created_at).toISOString(),
  };
}

/** Payments pending for at least `olderThanMs`, oldest first: the recovery worker's work. */
export function findAbandoned(sql: Sql, olderThanMs: number, limit: number): Promise<PaymentRow[]> {
  return sql.query<PaymentRow>(queries.findAbandoned, [olderThanMs, limit]);
}
