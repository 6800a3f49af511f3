import type { IdempotencyStore, TieredIdempotencyStore } from 'tollgate/idempotency';
import type { MigrateOptions } from 'tollgate/postgres';

/**
 * What a service keeps in its database besides tollgate's records: its numbered migrations and
 * the statements it runs.
 */
export interface ServiceSchema {
  /**
   * The service's name: its migrations are recorded in `<name>_migrations`, and on PostgreSQL
   * each of its statements is prepared once per connection as `<name>_<statement>`.
   */
  readonly name: string;
  /** The folder of its numbered migrations (`0001_*.sql`, …), applied after tollgate's. */
  readonly migrations: URL;
  /** Every statement the service runs, by name. */
  readonly statements: Readonly<Record<string, string>>;
}

/** One parameterised statement at a time, on a pool or inside a transaction. */
export interface Sql {
  query<Row>(text: string, params?: readonly unknown[]): Promise<Row[]>;
}

/** An open transaction: its statements, and tollgate's idempotency store bound to it. */
export interface Transaction extends Sql {
  /** `store` bound to this transaction: its claims and completions commit or roll back with it. */
  bind(store: TieredIdempotencyStore): TieredIdempotencyStore;
}

/**
 * The service's database, PGlite (embedded) or PostgreSQL (`pg`), as the service uses it:
 * statements, transactions, and tollgate's SQL idempotency store on it.
 */
export interface Database extends Sql {
  readonly kind: 'pglite' | 'postgres';
  /** Runs `work` in one transaction (committed when it resolves, rolled back when it throws). */
  transaction<T>(work: (tx: Transaction) => Promise<T>): Promise<T>;
  /** tollgate's SQL store on this database, outside any transaction: the idempotency truth. */
  readonly idempotency: IdempotencyStore;
  /** Applies tollgate's migrations and the service's own. */
  migrate(): Promise<void>;
  close(): Promise<void>;
}

/** The migrations of `schema` as tollgate's runner takes them. */
export function migrationsOf(schema: ServiceSchema): MigrateOptions {
  return { directory: schema.migrations, table: `${schema.name}_migrations` };
}
