import type { IdempotencyRouteOptions, TollgateRouteOptions } from 'tollgate/fastify';
import type { Services } from '../services.ts';

/**
 * A route's `config` from the policy file. `claimInHandler` routes write rows: their handler
 * claims the key inside its own transaction (see `withKey`), so the key and the effect commit
 * together.
 */
export function routeConfig(
  services: Services,
  method: string,
  url: string,
  claimInHandler = false,
): { tollgate: TollgateRouteOptions | false } {
  const options = services.policies.routeOptions(method, url);
  if (options === undefined) return { tollgate: false };
  const idempotency = options.idempotency;
  if (!claimInHandler || idempotency === undefined || typeof idempotency === 'string')
    return { tollgate: options };
  const own: IdempotencyRouteOptions = {
    ...idempotency,
    claim: 'handler',
    // The database holds these keys (its transaction claims them); replays come from its cache.
    store: services.effectStore,
    leaseMs: services.config.IDEMPOTENCY_LEASE_MS,
  };
  return { tollgate: { ...options, idempotency: own } };
}
