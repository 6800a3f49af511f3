import { readdirSync, readFileSync } from 'node:fs';
import type { Database } from './database.ts';

const directory = new URL('../sql/', import.meta.url);
const numbered = /^(\d{4})_[a-z0-9_]+\.sql$/;

/**
 * Applies the service's numbered migrations (`src/sql/000N_*.sql`) not yet recorded in
 * `payments_migrations`, each in its own transaction that records it first; an advisory lock
 * makes processes starting together take turns.
 */
export async function migratePayments(database: Pick<Database, 'transaction'>): Promise<string[]> {
  const applied: string[] = [];
  const files = readdirSync(directory)
    .filter((name) => numbered.test(name))
    .sort();
  for (const name of files) {
    const ran = await database.transaction(async (tx) => {
      await tx.query("SELECT pg_advisory_xact_lock(hashtext('payments_migrations'))");
      await tx.query(
        'CREATE TABLE IF NOT EXISTS payments_migrations (id integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())',
      );
      const recorded = await tx.query(
        'INSERT INTO payments_migrations (id, name) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING RETURNING id',
        [Number(numbered.exec(name)![1]), name],
      );
      if (recorded.length === 0) return false;
      for (const statement of statements(readFileSync(new URL(name, directory), 'utf8'))) {
        await tx.query(statement);
      }
      return true;
    });
    if (ran) applied.push(name);
  }
  return applied;
}

/**
 * A migration's statements, split on `;` at line ends outside dollar-quoted bodies, so every
 * statement can go through the extended protocol (which takes one at a time).
 */
function statements(script: string): string[] {
  const out: string[] = [];
  let current = '';
  let quoted = false;
  for (const line of script.split('\n')) {
    if (line.trimStart().startsWith('--')) continue;
    current += `${line}\n`;
    if ((line.match(/\$\$/g)?.length ?? 0) % 2 === 1) quoted = !quoted;
    if (!quoted && line.trimEnd().endsWith(';')) {
      out.push(current.trim());
      current = '';
    }
  }
  if (current.trim()) out.push(current.trim());
  return out;
}
