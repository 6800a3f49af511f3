import pg from 'pg';
import { type PgQueryable, PostgresIdempotencyStore } from 'tollgate/postgres';
import { type Database, migrationsOf, type ServiceSchema, type Sql, type Transaction } from './database.ts';
import { unavailableOr } from './unavailable.ts';

/** A statement's text with its parameters, as `pg` takes it. */
type Statement = (text: string, params: readonly unknown[]) => pg.QueryConfig;

/**
 * The service's own statements by text, each with a name: `pg` prepares a named statement once
 * per connection and then only binds and executes it (no parse or plan per request). Any other
 * text is sent unnamed.
 */
function statements(schema: ServiceSchema): Statement {
  const prepared = new Map<string, string>(
    Object.entries(schema.statements).map(([name, text]) => [text, `${schema.name}_${name}`]),
  );
  return (text, params) => {
    const name = prepared.get(text);
    return name === undefined ? { text, values: [...params] } : { name, text, values: [...params] };
  };
}

/** How the pool connects and how long anything it does may take (see `config.ts`). */
export interface PostgresOptions {
  readonly connectionString: string;
  readonly poolSize: number;
  /** Connecting, and waiting for a free connection of the pool. */
  readonly connectTimeoutMs: number;
  /** The server cancels a statement running longer (`statement_timeout`). */
  readonly statementTimeoutMs: number;
  /** The server gives up waiting for a lock (`lock_timeout`). */
  readonly lockTimeoutMs: number;
  /** The server ends a session idle inside a transaction (`idle_in_transaction_session_timeout`). */
  readonly idleInTransactionTimeoutMs: number;
}

/**
 * PostgreSQL through a `pg` pool: what several service processes share. Every statement is
 * bounded: by the server's timeouts while it is reachable, and by a client-side deadline
 * (statement timeout + connect timeout) when it stalls or the network does. A failure that
 * means "not now" surfaces as a `DatabaseUnavailableError` (answered 503 + Retry-After).
 */
export function openPostgres(options: PostgresOptions, schema: ServiceSchema): Database {
  const statement = statements(schema);
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.poolSize,
    connectionTimeoutMillis: options.connectTimeoutMs,
    statement_timeout: options.statementTimeoutMs,
    lock_timeout: options.lockTimeoutMs,
    idle_in_transaction_session_timeout: options.idleInTransactionTimeoutMs,
    query_timeout: options.statementTimeoutMs + options.connectTimeoutMs,
    // A statement is written without waiting for the one before it to be answered: a
    // transaction's BEGIN travels with its first statement (see LazyTransaction).
    pipeline: true,
  });
  // An idle client that fails (a server restart) must not crash the process.
  pool.on('error', () => undefined);
  const store = new PostgresIdempotencyStore({ pool });
  const database: Database = {
    kind: 'postgres',
    async query<Row>(text: string, params: readonly unknown[] = []) {
      try {
        return (await pool.query(statement(text, params))).rows as Row[];
      } catch (error) {
        throw unavailableOr(error);
      }
    },
    idempotency: store,
    async transaction(work) {
      const lazy = new LazyTransaction(pool, statement);
      const bound: Transaction = {
        query: (text, params) => lazy.query(text, params),
        bind: (tiered) => tiered.within(lazy.connection),
      };
      try {
        const result = await work(bound);
        await lazy.end('COMMIT');
        return result;
      } catch (error) {
        await lazy.end('ROLLBACK');
        throw error;
      }
    },
    async migrate() {
      await store.migrate();
      await store.migrate(migrationsOf(schema));
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
  private ended = false;

  constructor(
    private readonly pool: pg.Pool,
    private readonly statement: Statement,
  ) {}

  async query<Row>(text: string, params: readonly unknown[] = []): Promise<Row[]> {
    return (await this.run(this.statement(text, params))).rows as Row[];
  }

  /** This transaction as the connection tollgate's `store.within(connection)` runs on. */
  readonly connection: PgQueryable = { query: (config) => this.run(config) };

  async end(command: 'COMMIT' | 'ROLLBACK'): Promise<void> {
    this.ended = true;
    if (this.client === undefined) return;
    const client = await this.client.catch(() => undefined);
    if (client === undefined) return;
    try {
      await client.query(command);
      client.release();
    } catch (error) {
      client.release(error as Error);
      if (command === 'COMMIT') throw unavailableOr(error);
    }
  }

  /**
   * Runs `config` in the transaction. The first statement takes a connection and is written
   * right behind BEGIN (the pool's connections pipeline): one round trip, not two. It runs
   * only inside the transaction: if BEGIN fails, the connection is broken (nothing else makes
   * BEGIN fail), so the statement behind it fails too, and the connection is discarded.
   */
  private async run(config: pg.QueryConfig): Promise<pg.QueryResult> {
    // The connection went back to the pool with COMMIT or ROLLBACK: never write on it again.
    if (this.ended) throw new Error('this transaction is over');
    try {
      if (this.client !== undefined) return await (await this.client).query(config);
      let begun!: Promise<unknown>;
      this.client = this.pool.connect().then((client) => {
        begun = client.query('BEGIN');
        return client;
      });
      const client = await this.client;
      const result = client.query(config);
      // The statement's answer comes after BEGIN's; a failed BEGIN poisons the connection.
      await begun.catch((error: unknown) => {
        result.catch(() => undefined);
        this.client = Promise.reject(error);
        this.client.catch(() => undefined);
        client.release(error as Error);
        throw error;
      });
      return await result;
    } catch (error) {
      throw unavailableOr(error);
    }
  }
}
