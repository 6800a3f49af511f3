import type { RoutePolicyOptions } from 'tollgate/fastify';
import type { Config } from './config.ts';

/** The route every payment policy counts under. */
export const PAYMENTS_ROUTE = 'POST /api/v1/payments';

/**
 * The seed's rate-limit table, with the numbers from the configuration. Every API route counts
 * `global` (before authentication), `per-user` and `burst` (each request of a caller); the
 * payments route also counts `payments`, an operation policy: a replay, a conflict or a
 * mismatch costs none of it.
 */
export function servicePolicies(config: Config): {
  all: RoutePolicyOptions[];
  payments: RoutePolicyOptions[];
} {
  const all: RoutePolicyOptions[] = [
    {
      name: 'global',
      algorithm: 'sliding-window',
      limit: config.RATE_LIMIT_GLOBAL,
      windowSeconds: config.RATE_LIMIT_GLOBAL_WINDOW_S,
    },
    {
      name: 'per-user',
      algorithm: 'sliding-window',
      limit: config.RATE_LIMIT_USER,
      windowSeconds: config.RATE_LIMIT_USER_WINDOW_S,
      subject: ['principal'],
      counts: 'requests',
    },
    {
      name: 'burst',
      algorithm: 'token-bucket',
      limit: config.RATE_LIMIT_BURST_RATE,
      windowSeconds: 1,
      burst: config.RATE_LIMIT_BURST_CAPACITY,
      subject: ['principal'],
      counts: 'requests',
    },
  ];
  const payments: RoutePolicyOptions[] = [
    {
      name: 'payments',
      algorithm: 'sliding-window',
      limit: config.RATE_LIMIT_PAYMENTS,
      windowSeconds: config.RATE_LIMIT_PAYMENTS_WINDOW_S,
      subject: ['principal'],
    },
  ];
  return { all, payments };
}

/**
 * `per-ip-public`: requests to the public routes (`GET /api/v1/retry-config`), per client
 * address, with `per-ip`'s numbers but a counter of its own: they answer with rate-limit
 * headers like every API route, and reading the configuration never spends the budget of
 * requests without a key.
 */
export function publicPolicy(config: Config): RoutePolicyOptions {
  return { ...failedAuthPolicy(config), name: 'per-ip-public' };
}

/**
 * `per-ip`: requests without a valid API key, per client address. They pay no other policy (an
 * anonymous request never counts against one every caller shares), so this one bounds API-key
 * guessing; a caller whose key is valid never touches it, even behind the same address.
 */
export function failedAuthPolicy(config: Config): RoutePolicyOptions {
  return {
    name: 'per-ip',
    algorithm: 'sliding-window',
    limit: config.RATE_LIMIT_IP,
    windowSeconds: config.RATE_LIMIT_IP_WINDOW_S,
    subject: ['ip'],
  };
}
