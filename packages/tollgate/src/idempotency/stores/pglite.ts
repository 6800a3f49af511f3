import type { PGliteInterface, Transaction } from '@electric-sql/pglite';
import { type MigrateOptions, migrateDatabase } from '../migrate.ts';
import { SqlIdempotencyStore } from './sql.ts';
import type { SqlDatabase, SqlScriptSession } from './sql-session.ts';

/**
 * The embedded PostgreSQL store: the same SQL and migrations as {@link PostgresIdempotencyStore},
 * run by PGlite in this process (in memory, or in a directory to survive restarts). One PGlite
 * is one connection, so exactly-once holds for the processes sharing it: this one.
 */
export class PGliteIdempotencyStore extends SqlIdempotencyStore {
  private readonly database: SqlDatabase;

  constructor(
    db: PGliteInterface | Transaction,
    /** Set on a store bound by {@link within}: the database's store. */
    readonly home?: PGliteIdempotencyStore,
  ) {
    const database = pgliteDatabase(db);
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

  /** This store inside `tx` (from `db.transaction(async (tx) => …)`): commits or rolls back with it. */
  within(tx: Transaction): PGliteIdempotencyStore {
    return new PGliteIdempotencyStore(tx, this.home ?? this);
  }
}

function pgliteDatabase(db: PGliteInterface | Transaction): SqlDatabase {
  const session = (target: PGliteInterface | Transaction): SqlScriptSession => ({
    async query<Row>(_name: string, text: string, params: readonly unknown[]) {
      return (await target.query<Row>(text, [...params])).rows;
    },
    async exec(script: string) {
      await target.exec(script);
    },
  });
  return {
    ...session(db),
    transaction: (fn) => ('transaction' in db ? db.transaction((tx) => fn(session(tx))) : fn(session(db))), // already inside one
  };
}
