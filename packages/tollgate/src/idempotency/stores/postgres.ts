import type pg from 'pg';
import { type PgQueryable, pgDatabase } from './pg-database.ts';
import { SqlIdempotencyStore } from './sql.ts';

/** Options of {@link PostgresIdempotencyStore}. */
export interface PostgresIdempotencyStoreOptions {
  /** A `pg.Pool` (usual), or one connection such as the caller's transaction. */
  readonly pool: pg.Pool | PgQueryable;
  /**
   * Name the statements so each connection prepares them once. Turn off behind a pooler that
   * cannot keep prepared statements (PgBouncer in transaction mode before 1.21).
   * @default true
   */
  readonly preparedStatements?: boolean;
}

/**
 * The production store: PostgreSQL through `pg` holds the truth. Call `migrate()` once at
 * start-up (safe from several processes at once).
 *
 * For exactly-once business writes, claim and complete inside your transaction with
 * `within(client)`: it runs in READ COMMITTED (PostgreSQL's default), and while that transaction
 * is open, others claiming the same key wait for it on the unique scope.
 * @example
 * const client = await pool.connect();
 * await client.query('BEGIN');
 * const begun = await engine.begin(request, { store: store.within(client) });
 * if (begun.status === 'new') {
 *   await client.query('UPDATE accounts SET balance = balance - $1 WHERE id = $2', [amount, id]);
 *   await begun.claim.complete({ status: 201, body });
 * }
 * await client.query('COMMIT'); // the debit and the completion, or neither
 */
export class PostgresIdempotencyStore extends SqlIdempotencyStore<PgQueryable> {
  constructor(private readonly options: PostgresIdempotencyStoreOptions) {
    super(pgDatabase(options.pool, options.preparedStatements ?? true));
  }

  protected over(client: PgQueryable): this {
    return new PostgresIdempotencyStore({ ...this.options, pool: client }) as this;
  }
}
