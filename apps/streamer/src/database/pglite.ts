import { PGlite, type Transaction as PGliteTransaction } from '@electric-sql/pglite';
import { PGliteIdempotencyStore } from 'tollgate/postgres';
import type { Database, Sql } from './database.ts';
import { streamerMigrations } from './migrate.ts';

/** The embedded default: PGlite in `dataDir`, durable across restarts; transactions take turns. */
export async function openPGlite(dataDir: string): Promise<Database> {
  const db = await PGlite.create(dataDir);
  const store = new PGliteIdempotencyStore({ db });
  const sql = (target: PGlite | PGliteTransaction): Sql => ({
    async query<Row>(text: string, params: readonly unknown[] = []) {
      return (await target.query<Row>(text, [...params])).rows;
    },
  });
  const database: Database = {
    kind: 'pglite',
    ...sql(db),
    idempotency: store,
    transaction: (work) => db.transaction((tx) => work({ ...sql(tx), bind: (tiered) => tiered.within(tx) })),
    async migrate() {
      await store.migrate();
      await store.migrate(streamerMigrations);
    },
    close: () => db.close(),
  };
  return database;
}
