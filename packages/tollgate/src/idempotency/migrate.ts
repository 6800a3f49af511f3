import { readdirSync, readFileSync } from 'node:fs';
import type { PGliteInterface, Transaction } from '@electric-sql/pglite';
import type pg from 'pg';
import { ErrorCode } from '../codes.ts';
import { TollgateError } from '../errors.ts';
import { type PgQueryable, pgDatabase } from './stores/pg-database.ts';
import { pgliteDatabase } from './stores/pglite-database.ts';
import type { SqlDatabase } from './stores/sql-session.ts';

const tollgateMigrations = new URL('./sql/', import.meta.url);
const tollgateTable = 'tollgate_migrations';
const numbered = /^(\d{4})_[a-z0-9_-]+\.sql$/;

/** An app's own numbered migrations for {@link migrate}, and where they are recorded. */
export interface MigrateOptions {
  /** A folder of numbered `.sql` files (`0001_payments.sql`, …), applied in order. */
  readonly directory: URL;
  /**
   * The table that records the applied ones (its name also keys the advisory lock): the app's
   * own, since its numbers are not tollgate's.
   */
  readonly table: string;
}

/** What {@link migrate} runs on: a `pg` pool or connection, or PGlite. */
export type MigrationTarget = pg.Pool | PgQueryable | PGliteInterface | Transaction;

/**
 * Applies the numbered `.sql` migrations not yet recorded: tollgate's own (recorded in
 * `tollgate_migrations`), or with `options` an app's directory (recorded in its `table`). Each
 * runs in its own transaction that records it first and then runs it, so a failure leaves
 * neither; an advisory lock makes concurrent migrators (several processes starting at once)
 * take turns. Returns the names applied by this call.
 *
 * @example
 * await migrate(pool); // tollgate's tables
 * await migrate(pool, { directory: new URL('./sql/', import.meta.url), table: 'app_migrations' });
 */
export function migrate(db: MigrationTarget, options?: MigrateOptions): Promise<string[]> {
  return applyMigrations('exec' in db ? pgliteDatabase(db) : pgDatabase(db, false), options);
}

/** {@link migrate} on a database a store already holds. */
export async function applyMigrations(database: SqlDatabase, options?: MigrateOptions): Promise<string[]> {
  const table = options?.table ?? tollgateTable;
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(table)) {
    throw new TollgateError(
      ErrorCode.MigrateTable,
      `migration table "${table}" must be a lower-case SQL name`,
    );
  }
  const applied: string[] = [];
  for (const migration of migrations(options?.directory ?? tollgateMigrations)) {
    const ran = await database.transaction(async (tx) => {
      await tx.query(`${table}_lock`, `SELECT pg_advisory_xact_lock(hashtext('${table}'))`, []);
      await tx.exec(
        `CREATE TABLE IF NOT EXISTS ${table} (id integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
      );
      const recorded = await tx.query(
        `${table}_record`,
        `INSERT INTO ${table} (id, name) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING RETURNING id`,
        [migration.id, migration.name],
      );
      if (recorded.length === 0) return false;
      await tx.exec(migration.script);
      return true;
    });
    if (ran) applied.push(migration.name);
  }
  return applied;
}

/** The numbered migrations of `directory`, in order. */
function migrations(directory: URL): { id: number; name: string; script: string }[] {
  return readdirSync(directory)
    .filter((name) => numbered.test(name))
    .sort()
    .map((name) => ({
      id: Number(numbered.exec(name)![1]),
      name,
      script: readFileSync(new URL(name, directory), 'utf8'),
    }));
}
