import type { MigrateOptions } from 'tollgate/postgres';

/**
 * The service's own numbered migrations (`src/sql/000N_*.sql`), applied after tollgate's by
 * the library's one runner (`store.migrate(streamerMigrations)`), recorded in `streamer_migrations`.
 */
export const streamerMigrations: MigrateOptions = {
  directory: new URL('../sql/', import.meta.url),
  table: 'streamer_migrations',
};
