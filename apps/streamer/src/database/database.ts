import type { IdempotencyStore } from 'tollgate/idempotency';

/** One parameterised statement at a time, on the pool or inside a transaction. */
export interface Sql {
  query<Row>(text: string, params?: readonly unknown[]): Promise<Row[]>;
}

/** An open transaction: its statements, and tollgate's SQL idempotency store bound to it. */
export interface Transaction extends Sql {
  /** Claims and completions through it commit or roll back with the transaction. */
  readonly idempotency: IdempotencyStore;
}

/** The service's database: PGlite (embedded) or PostgreSQL (`pg`). */
export interface Database extends Sql {
  readonly kind: 'pglite' | 'postgres';
  /** Runs `work` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(work: (tx: Transaction) => Promise<T>): Promise<T>;
  /** Applies tollgate's idempotency migrations and the service's own. */
  migrate(): Promise<void>;
  close(): Promise<void>;
}
