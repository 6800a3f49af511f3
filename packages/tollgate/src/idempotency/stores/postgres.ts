import type pg from 'pg';
import { type MigrateOptions, migrateDatabase } from '../migrate.ts';
import { SqlIdempotencyStore } from './sql.ts';
import type { SqlDatabase, SqlScriptSession } from './sql-session.ts';

/**
 * What the store needs of a connection to run its statements on: a `pg` client (the caller's
 * transaction), or anything that runs a `pg` query config on one — e.g. a transaction that
 * connects only before its first statement.
 */
export interface PgQueryable {
  query(config: pg.QueryConfig): Promise<pg.QueryResult>;
}

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
 * For exactly-once business writes, claim and complete inside your transaction:
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
export class PostgresIdempotencyStore extends SqlIdempotencyStore {
  private readonly database: SqlDatabase;

  constructor(
    private readonly options: PostgresIdempotencyStoreOptions,
    /** Set on a store bound by {@link within}: the pool's store. */
    readonly home?: PostgresIdempotencyStore,
  ) {
    const database = pgDatabase(options.pool, options.preparedStatements ?? true);
    super(database);
    this.database = database;
  }

  /**
   * Applies tollgate's migrations that this database has not recorded yet — or, with
   * `options`, an app's own numbered `.sql` files (`{ directory, table }`).
   */
  migrate(options?: MigrateOptions): Promise<string[]> {
    return migrateDatabase(this.database, options);
  }

  /**
   * This store, running every statement on `client` — typically inside the caller's open
   * transaction, so a claim and its completion commit or roll back with the business write.
   * Runs in READ COMMITTED (PostgreSQL's default). While that transaction is open, others
   * claiming the same key wait for it on the unique scope.
   */
  within(client: PgQueryable): PostgresIdempotencyStore {
    return new PostgresIdempotencyStore({ ...this.options, pool: client }, this.home ?? this);
  }
}

function pgDatabase(queryable: pg.Pool | PgQueryable, prepared: boolean): SqlDatabase {
  const session = (target: pg.Pool | PgQueryable): SqlScriptSession => ({
    async query<Row>(name: string, text: string, values: readonly unknown[]) {
      const config = prepared ? { name, text, values: [...values] } : { text, values: [...values] };
      return (await target.query(config)).rows as Row[];
    },
    async exec(script: string) {
      await target.query({ text: script });
    },
  });
  return {
    ...session(queryable),
    async transaction(fn) {
      const client = 'totalCount' in queryable ? await queryable.connect() : queryable;
      try {
        await client.query({ text: 'BEGIN' });
        const result = await fn(session(client));
        await client.query({ text: 'COMMIT' });
        return result;
      } catch (error) {
        await client.query({ text: 'ROLLBACK' }).catch(() => undefined);
        throw error;
      } finally {
        if ('release' in client && typeof client.release === 'function') client.release();
      }
    },
  };
}
