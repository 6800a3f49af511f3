import type { ServiceSchema } from '@tollgate/service-kit/database';
import { queries } from './queries.ts';

/**
 * The service's tables (its numbered migrations here, applied after tollgate's and recorded in
 * `streamer_migrations`) and its statements (prepared as `streamer_<name>` on PostgreSQL).
 */
export const streamerSchema: ServiceSchema = {
  name: 'streamer',
  migrations: new URL('./', import.meta.url),
  statements: queries,
};
