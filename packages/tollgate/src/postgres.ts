/**
 * `tollgate/postgres`: the idempotency stores on PostgreSQL — `pg` (optional peer dependency)
 * for production, PGlite (`@electric-sql/pglite`) as the embedded database — sharing one set
 * of SQL statements and numbered migrations (`migrate`, also an app's own), and the
 * transactional API (`store.within(tx)`).
 */
export { type MigrateOptions, migrate } from './idempotency/migrate.ts';
export type { PgQueryable } from './idempotency/stores/pg-database.ts';
export { PGliteIdempotencyStore, type PGliteIdempotencyStoreOptions } from './idempotency/stores/pglite.ts';
export {
  PostgresIdempotencyStore,
  type PostgresIdempotencyStoreOptions,
} from './idempotency/stores/postgres.ts';
