/**
 * `tollgate/postgres`: the idempotency stores on PostgreSQL — `pg` (optional peer dependency)
 * for production, PGlite (`@electric-sql/pglite`) as the embedded database — sharing one set
 * of SQL statements and numbered migrations, and the transactional API (`store.within(tx)`).
 */
export { type MigrateOptions, type Migration, migrateDatabase, migrations } from './idempotency/migrate.ts';
export { PGliteIdempotencyStore } from './idempotency/stores/pglite.ts';
export {
  type PgQueryable,
  PostgresIdempotencyStore,
  type PostgresIdempotencyStoreOptions,
} from './idempotency/stores/postgres.ts';
export { SqlIdempotencyStore } from './idempotency/stores/sql.ts';
export type { SqlDatabase, SqlScriptSession, SqlSession } from './idempotency/stores/sql-session.ts';
