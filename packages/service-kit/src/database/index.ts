export { DataDirInUseError } from './data-dir-lock.ts';
export type { Database, ServiceSchema, Sql, Transaction } from './database.ts';
export { openPGlite } from './pglite.ts';
export { openPostgres, type PostgresOptions } from './postgres.ts';
export { DatabaseUnavailableError, isDatabaseUnavailable } from './unavailable.ts';
