import { AsyncLocalStorage } from 'node:async_hooks';
import type { IdempotencyStore } from 'tollgate/idempotency';

/** One parameterised statement at a time, on a pool or inside a transaction. */
export interface Sql {
  query<Row>(text: string, params?: readonly unknown[]): Promise<Row[]>;
}

/** An open transaction: its statements, and tollgate's idempotency store bound to it. */
export interface Transaction extends Sql {
  readonly idempotency: IdempotencyStore;
}

/**
 * The service's database, PGlite (embedded) or PostgreSQL (`pg`), as the service uses it:
 * statements, transactions, and an idempotency store that follows the caller's transaction.
 */
export interface Database extends Sql {
  readonly kind: 'pglite' | 'postgres';
  /**
   * Runs `work` in one transaction (committed when it resolves, rolled back when it throws).
   * Inside it, {@link Database.idempotency} claims and completes within this transaction.
   */
  transaction<T>(work: (tx: Transaction) => Promise<T>): Promise<T>;
  /**
   * tollgate's SQL store, bound to the transaction the call runs in (see
   * {@link TransactionFollowingStore}), or to the pool outside any.
   */
  readonly idempotency: IdempotencyStore;
  /** Applies tollgate's migrations and the service's own. */
  migrate(): Promise<void>;
  close(): Promise<void>;
}

/**
 * An idempotency store that runs each call in the transaction of the async context that makes
 * it: so a claim taken in transaction 1 and completed in transaction 2 writes in each, while
 * a release after a failed call (outside any transaction) uses the pool.
 */
export class TransactionFollowingStore implements IdempotencyStore {
  private readonly context = new AsyncLocalStorage<IdempotencyStore>();

  constructor(private readonly outside: IdempotencyStore) {}

  /** Runs `work` with `store` (a store bound to one transaction) as the current one. */
  within<T>(store: IdempotencyStore, work: () => Promise<T>): Promise<T> {
    return this.context.run(store, work);
  }

  private get store(): IdempotencyStore {
    return this.context.getStore() ?? this.outside;
  }

  claim(...args: Parameters<IdempotencyStore['claim']>) {
    return this.store.claim(...args);
  }
  extend(...args: Parameters<IdempotencyStore['extend']>) {
    return this.store.extend(...args);
  }
  checkpoint(...args: Parameters<IdempotencyStore['checkpoint']>) {
    return this.store.checkpoint(...args);
  }
  complete(...args: Parameters<IdempotencyStore['complete']>) {
    return this.store.complete(...args);
  }
  release(...args: Parameters<IdempotencyStore['release']>) {
    return this.store.release(...args);
  }
  sweep(...args: Parameters<IdempotencyStore['sweep']>) {
    return this.store.sweep(...args);
  }
}
