import { bearerAuth } from '@tollgate/service-kit/auth';
import type { Services } from '../services.ts';

/**
 * The route hook that answers 401 problem+json unless the request carries one known API key
 * (`Authorization: Bearer <key>`); a request without one pays `per-ip` (see `failedAuthPolicy`),
 * then 429, so keys cannot be guessed at full speed.
 */
export function authenticate(services: Pick<Services, 'keys' | 'failedAuth'>) {
  return bearerAuth(services.keys, 'payments', services.failedAuth);
}
