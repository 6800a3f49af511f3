import type { Sql } from '@tollgate/service-kit/database';
import { queries } from './sql/queries.ts';

/** What happened to a payment, as the trail records it. */
export type AuditAction =
  | 'payment.created'
  | 'payment.resumed'
  | 'payment.succeeded'
  | 'payment.declined'
  | 'payment.processor_failed'
  | 'payment.recovered';

/** One entry of the append-only trail. */
export interface AuditEntry {
  readonly principal: string;
  readonly action: AuditAction;
  readonly transactionId: string | null;
  readonly requestId: string;
  readonly details: Record<string, unknown>;
}

/** Appends `entry` (inside the caller's transaction when `sql` is one). */
export async function appendAudit(sql: Sql, entry: AuditEntry): Promise<void> {
  await sql.query(queries.insertAudit, [
    entry.principal,
    entry.action,
    entry.transactionId,
    entry.requestId,
    JSON.stringify(entry.details),
  ]);
}

/** A page of the trail as the API answers it. */
export interface AuditPage {
  readonly items: readonly {
    id: string;
    action: string;
    transaction_id: string | null;
    request_id: string | null;
    details: unknown;
    created_at: string;
  }[];
  /** Pass as `cursor` for the next (older) page; null on the last page. */
  readonly next_cursor: string | null;
}

/** The caller's entries older than `cursor`, newest first. */
export async function auditPage(
  sql: Sql,
  principal: string,
  cursor: string | null,
  limit: number,
): Promise<AuditPage> {
  const rows = await sql.query<{
    id: string;
    action: string;
    transaction_id: string | null;
    request_id: string | null;
    details: unknown;
    created_at: Date;
  }>(queries.listAudit, [principal, cursor, limit + 1]);
  const page = rows.slice(0, limit);
  return {
    items: page.map((row) => ({ ...row, created_at: new Date(row.created_at).toISOString() })),
    next_cursor: rows.length > limit ? page[page.length - 1]!.id : null,
  };
}
