import type { ServiceSchema } from '@tollgate/service-kit/database';
import { queries } from './queries.ts';

/**
 * The service's tables (its numbered migrations here, applied after tollgate's and recorded in
 * `payments_migrations`) and its statements (prepared as `payments_<name>` on PostgreSQL).
 */
export const paymentsSchema: ServiceSchema = {
  name: 'payments',
  migrations: new URL('./', import.meta.url),
  statements: queries,
};
