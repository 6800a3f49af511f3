import pg from 'pg';
import { PostgresIdempotencyStore } from 'tollgate/postgres';
import { type Database, type Sql, type Transaction, TransactionFollowingStore } from './database.ts';
import { migratePayments } from './migrate.ts';

/** PostgreSQL through a `pg` pool: what several service processes share. */
export function openPostgres(connectionString: string, poolSize: number): Database {
  const pool = new pg.Pool({ connectionString, max: poolSize });
  // An idle client that fails (a server restart) must not crash the process.
  pool.on('error', () => undefined);
  const store = new PostgresIdempotencyStore({ pool });
  const idempotency = new TransactionFollowingStore(store);
  const database: Database = {
    kind: 'postgres',
    async query<Row>(text: string, params: readonly unknown[] = []) {
      return (await pool.query(text, [...params])).rows as Row[];
    },
    idempotency,
    async transaction(work) {
      const lazy = new LazyTransaction(pool);
      const bound: Transaction = {
        query: (text, params) => lazy.query(text, params),
        idempotency: store.within(lazy.asClient()),
      };
      try {
        const result = await idempotency.within(bound.idempotency, () => work(bound));
        await lazy.end('COMMIT');
        return result;
      } catch (error) {
        await lazy.end('ROLLBACK');
        throw error;
      }
    },
    async migrate() {
      await store.migrate();
      await migratePayments(database);
    },
    close: () => pool.end(),
  };
  return database;
}

/**
 * A transaction that takes a connection and sends BEGIN only before its first statement: a
 * request answered from the Redis replay cache never touches PostgreSQL at all.
 */
class LazyTransaction implements Sql {
  private client: Promise<pg.PoolClient> | undefined;

  constructor(private readonly pool: pg.Pool) {}

  async query<Row>(text: string, params: readonly unknown[] = []): Promise<Row[]> {
    return (await (await this.open()).query(text, [...params])).rows as Row[];
  }

  /** This transaction as the `pg` client tollgate's `store.within(client)` takes. */
  asClient(): pg.ClientBase {
    const run = async (config: pg.QueryConfig) => (await this.open()).query(config);
    return { query: run } as unknown as pg.ClientBase;
  }

  async end(command: 'COMMIT' | 'ROLLBACK'): Promise<void> {
    if (this.client === undefined) return;
    const client = await this.client.catch(() => undefined);
    if (client === undefined) return;
    try {
      await client.query(command);
      client.release();
    } catch (error) {
      client.release(error as Error);
      if (command === 'COMMIT') throw error;
    }
  }

  private open(): Promise<pg.PoolClient> {
    this.client ??= this.pool.connect().then(async (client) => {
      try {
        await client.query('BEGIN');
        return client;
      } catch (error) {
        client.release(error as Error);
        throw error;
      }
    });
    return this.client;
  }
}
