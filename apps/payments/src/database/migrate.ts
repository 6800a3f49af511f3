import type { MigrateOptions } from 'tollgate/postgres';

/**
 * The service's own numbered migrations (`src/sql/000N_*.sql`), applied after tollgate's by
 * the library's one runner (`store.migrate(paymentsMigrations)`), recorded in `payments_migrations`.
 */
export const paymentsMigrations: MigrateOptions = {
  directory: new URL('../sql/', import.meta.url),
  table: 'payments_migrations',
};
