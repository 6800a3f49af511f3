import type { PGliteInterface, Transaction } from '@electric-sql/pglite';
import { pgliteDatabase } from './pglite-database.ts';
import { SqlIdempotencyStore } from './sql.ts';

/** Options of {@link PGliteIdempotencyStore}. */
export interface PGliteIdempotencyStoreOptions {
  /** The PGlite database (or one of its transactions). */
  readonly db: PGliteInterface | Transaction;
}

/**
 * The embedded PostgreSQL store: the same SQL and migrations as {@link PostgresIdempotencyStore},
 * run by PGlite in this process (in memory, or in a directory to survive restarts). One PGlite
 * is one connection, so exactly-once holds for the processes sharing it: this one.
 * `within(tx)` (a `tx` from `db.transaction(async (tx) => …)`) commits or rolls back with it.
 */
export class PGliteIdempotencyStore extends SqlIdempotencyStore<Transaction> {
  constructor(options: PGliteIdempotencyStoreOptions) {
    super(pgliteDatabase(options.db));
  }

  protected over(tx: Transaction): this {
    return new PGliteIdempotencyStore({ db: tx }) as this;
  }
}
