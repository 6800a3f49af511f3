import { readdirSync, readFileSync } from 'node:fs';
import { TollgateError } from '../errors.ts';
import type { SqlDatabase } from './stores/sql-session.ts';

const tollgateMigrations = new URL('./sql/', import.meta.url);
const numbered = /^(\d{4})_[a-z0-9_-]+\.sql$/;

/** Which migrations {@link migrateDatabase} applies, and where it records them. */
export interface MigrateOptions {
  /**
   * A folder of numbered `.sql` files (`0001_payments.sql`, …), applied in order.
   * @default tollgate's own migrations
   */
  readonly directory?: URL;
  /**
   * The table that records the applied ones (its name also keys the advisory lock).
   * @default 'tollgate_migrations'
   */
  readonly table?: string;
}

/** One numbered `.sql` file. */
export interface Migration {
  readonly id: number;
  readonly name: string;
  readonly script: string;
}

/** The numbered migrations of `directory` (tollgate's own by default), in order. */
export function migrations(directory: URL = tollgateMigrations): Migration[] {
  return readdirSync(directory)
    .filter((name) => numbered.test(name))
    .sort()
    .map((name) => ({
      id: Number(numbered.exec(name)![1]),
      name,
      script: readFileSync(new URL(name, directory), 'utf8'),
    }));
}

/**
 * Applies the migrations of `directory` not yet recorded in `table`, each in its own
 * transaction that records it first and then runs it, so a failure leaves neither. An advisory
 * lock makes concurrent migrators (several processes starting at once) take turns. Apps run
 * their own numbered files with it too (`store.migrate({ directory, table })`).
 * Returns the names applied by this call.
 */
export async function migrateDatabase(
  database: SqlDatabase,
  options: MigrateOptions = {},
): Promise<string[]> {
  const table = options.table ?? 'tollgate_migrations';
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(table)) {
    throw new TollgateError('ERR_MIGRATE_TABLE', `migration table "${table}" must be a lower-case SQL name`);
  }
  const applied: string[] = [];
  for (const migration of migrations(options.directory)) {
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
