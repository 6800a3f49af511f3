import { readdirSync, readFileSync } from 'node:fs';
import type { Database } from './database.ts';

const directory = new URL('../sql/', import.meta.url);
const numbered = /^(\d{4})_[a-z0-9_]+\.sql$/;

/**
 * Applies the numbered migrations `src/sql/000N_*.sql` not yet recorded in
 * `streamer_migrations`, each in its own transaction that records it first; an advisory lock
 * makes processes starting together take turns.
 */
export async function migrateStreamer(database: Pick<Database, 'transaction'>): Promise<string[]> {
  const applied: string[] = [];
  const files = readdirSync(directory)
    .filter((name) => numbered.test(name))
    .sort();
  for (const name of files) {
    const ran = await database.transaction(async (tx) => {
      await tx.query("SELECT pg_advisory_xact_lock(hashtext('streamer_migrations'))");
      await tx.query(
        'CREATE TABLE IF NOT EXISTS streamer_migrations (id integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())',
      );
      const recorded = await tx.query(
        'INSERT INTO streamer_migrations (id, name) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING RETURNING id',
        [Number(numbered.exec(name)![1]), name],
      );
      if (recorded.length === 0) return false;
      // One statement per query (the extended protocol takes one): migrations end each with ";\n".
      const script = readFileSync(new URL(name, directory), 'utf8')
        .split('\n')
        .filter((line) => !line.trimStart().startsWith('--'))
        .join('\n');
      for (const statement of script
        .split(/;\s*\n/)
        .map((s) => s.trim())
        .filter(Boolean)) {
        await tx.query(statement);
      }
      return true;
    });
    if (ran) applied.push(name);
  }
  return applied;
}
