import { readdirSync, readFileSync } from 'node:fs';
import type { SqlDatabase } from './stores/sql-session.ts';

const directory = new URL('./sql/', import.meta.url);
const numbered = /^(\d{4})_[a-z0-9_-]+\.sql$/;

/** One numbered `.sql` file of `./sql/`. */
export interface Migration {
  readonly id: number;
  readonly name: string;
  readonly script: string;
}

/** The migrations shipped with tollgate, in order. */
export function migrations(): Migration[] {
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
 * Applies the migrations not yet recorded in `tollgate_migrations`, each in its own
 * transaction that records it first and then runs it, so a failure leaves neither. An advisory
 * lock makes concurrent migrators (several processes starting at once) take turns.
 * Returns the names applied by this call.
 */
export async function migrateDatabase(database: SqlDatabase): Promise<string[]> {
  const applied: string[] = [];
  for (const migration of migrations()) {
    const ran = await database.transaction(async (tx) => {
      await tx.query(
        'tollgate_migrate_lock',
        "SELECT pg_advisory_xact_lock(hashtext('tollgate_migrations'))",
        [],
      );
      await tx.exec(
        'CREATE TABLE IF NOT EXISTS tollgate_migrations (id integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())',
      );
      const recorded = await tx.query(
        'tollgate_migrate_record',
        'INSERT INTO tollgate_migrations (id, name) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING RETURNING id',
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
