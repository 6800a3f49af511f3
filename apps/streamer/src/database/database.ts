import type { IdempotencyStore, TieredIdempotencyStore } from 'tollgate/idempotency';

/** One parameterised statement at a time, on the pool or inside a transaction. */
export interface Sql {
  query<Row>(text: string, params?: readonly unknown[]): Promise<Row[]>;
}

/** An open transaction: its statements, and tollgate's SQL idempotency store bound to it. */
export interface Transaction extends Sql {
  /** `store` bound to this transaction: its claims and completions commit or roll back with it. */
  bind(store: TieredIdempotencyStore): TieredIdempotencyStore;
}

/** The service's database: PGlite (embedded) or PostgreSQL (`pg`). */
export interface Database extends Sql {
  readonly kind: 'pglite' | 'postgres';
  /** Runs `work` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(work: (tx: Transaction) => Promise<T>): Promise<T>;
  /** tollgate's SQL store on this database, outside any transaction: the idempotency truth. */
  readonly idempotency: IdempotencyStore;
  /** Applies tollgate's idempotency migrations and the service's own. */
  migrate(): Promise<void>;
  close(): Promise<void>;
}
