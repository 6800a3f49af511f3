import pg from 'pg';
import { PostgresIdempotencyStore } from 'tollgate/postgres';
import type { Database } from './database.ts';
import { streamerMigrations } from './migrate.ts';

/** PostgreSQL through a `pg` pool: what several service processes share. */
export function openPostgres(connectionString: string, poolSize: number): Database {
  const pool = new pg.Pool({ connectionString, max: poolSize });
  // An idle client that fails (a server restart) must not crash the process.
  pool.on('error', () => undefined);
  const store = new PostgresIdempotencyStore({ pool });
  const database: Database = {
    kind: 'postgres',
    async query<Row>(text: string, params: readonly unknown[] = []) {
      return (await pool.query(text, [...params])).rows as Row[];
    },
    idempotency: store,
    async transaction(work) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const result = await work({
          query: async <Row>(text: string, params: readonly unknown[] = []) =>
            (await client.query(text, [...params])).rows as Row[],
          bind: (tiered) => tiered.within(client),
        });
        await client.query('COMMIT');
        client.release();
        return result;
      } catch (error) {
        await client.query('ROLLBACK').then(
          () => client.release(),
          (failed: Error) => client.release(failed),
        );
        throw error;
      }
    },
    async migrate() {
      await store.migrate();
      await store.migrate(streamerMigrations);
    },
    close: () => pool.end(),
  };
  return database;
}
