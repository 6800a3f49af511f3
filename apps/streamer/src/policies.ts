import type { HttpPolicyOptions, IdempotencyRouteOptions, TollgateRouteOptions } from 'tollgate/fastify';

/**
 * TEMPORARY: `policies.yaml` by hand, until `tollgate/policies` (`loadPolicies`) lands; then
 * this file becomes `loadPolicies({ path })` and `document.routeOptions(method, url)`. Keep
 * the two in step: the YAML is the source of truth, and `policies.test.ts` checks this
 * mapping against it row by row.
 */

/** The configuration keys of the limits table and the limit each sets. */
export const LIMIT_KEYS = [
  'limits.votePerMin',
  'limits.streamerSubmitPer10m',
  'limits.invoicePer5m',
  'limits.withdrawPerHour',
  'limits.workerBatchPerMin',
  'limits.telegramWebhookPerMin',
] as const;
export type LimitKey = (typeof LIMIT_KEYS)[number];

const HOUR_MS = 3_600_000;

const idempotency: Record<string, IdempotencyRouteOptions> = {
  'POST /api/votes': { mode: 'required', key: { header: 'idempotency-key' }, ttlMs: 24 * HOUR_MS },
  // `generated: true` in the YAML: the adapters will derive a key when none is sent.
  'POST /api/payments/stars/createInvoice': {
    mode: 'optional',
    key: { header: 'idempotency-key' },
    ttlMs: HOUR_MS,
  },
  'POST /api/wallet/withdraw': { mode: 'required', key: { header: 'idempotency-key' }, ttlMs: 24 * HOUR_MS },
  'POST /internal/worker/events': {
    mode: 'required',
    key: { header: 'x-idempotency-key' },
    ttlMs: 24 * HOUR_MS,
  },
  'POST /internal/worker/media': {
    mode: 'required',
    key: { header: 'x-idempotency-key' },
    ttlMs: 24 * HOUR_MS,
  },
  'POST /internal/worker/streamer-status': {
    mode: 'required',
    key: { header: 'x-idempotency-key' },
    ttlMs: 5 * 60_000,
  },
  'POST /integrations/telegram/payments': {
    mode: 'optional',
    key: { body: 'message.successful_payment.invoice_payload' },
    ttlMs: 24 * HOUR_MS,
    exclude: [
      'update_id',
      'message.message_id',
      'message.date',
      'message.chat',
      'message.from',
      'message.successful_payment.telegram_payment_charge_id',
      'message.successful_payment.provider_payment_charge_id',
    ],
  },
};

interface LimitRow extends HttpPolicyOptions {
  readonly routes: readonly string[];
  readonly configKey: LimitKey;
}

const limits: readonly LimitRow[] = [
  {
    name: 'vote',
    subject: ['principal', 'body:streamer_id'],
    routes: ['POST /api/votes'],
    limit: 30,
    windowSeconds: 60,
    algorithm: 'sliding-window',
    counts: 'operations',
    configKey: 'limits.votePerMin',
  },
  {
    name: 'streamer-submit',
    subject: ['principal'],
    routes: ['POST /api/streamers'],
    limit: 5,
    windowSeconds: 600,
    algorithm: 'token-bucket',
    counts: 'requests',
    configKey: 'limits.streamerSubmitPer10m',
  },
  {
    name: 'invoice',
    subject: ['principal'],
    routes: ['POST /api/payments/stars/createInvoice'],
    limit: 3,
    windowSeconds: 300,
    algorithm: 'token-bucket',
    counts: 'operations',
    configKey: 'limits.invoicePer5m',
  },
  {
    name: 'withdraw',
    subject: ['principal'],
    routes: ['POST /api/wallet/withdraw'],
    limit: 2,
    windowSeconds: 3600,
    algorithm: 'token-bucket',
    counts: 'operations',
    configKey: 'limits.withdrawPerHour',
  },
  {
    name: 'worker-batch',
    subject: ['principal'],
    routes: ['POST /internal/worker/*'],
    limit: 120,
    windowSeconds: 60,
    algorithm: 'token-bucket',
    counts: 'operations',
    configKey: 'limits.workerBatchPerMin',
  },
  {
    name: 'telegram-webhook',
    subject: [],
    routes: ['POST /integrations/telegram/payments'],
    limit: 100,
    windowSeconds: 60,
    algorithm: 'token-bucket',
    counts: 'operations',
    configKey: 'limits.telegramWebhookPerMin',
  },
];

/** The service's policies with the configured values applied. */
export interface StreamerPolicies {
  /** A registered route's tollgate settings (`config.tollgate`), or undefined when it has none. */
  routeOptions(method: string, template: string): TollgateRouteOptions | undefined;
}

/** The policies of `policies.yaml`, each limit overridden by its configuration key when set. */
export function loadStreamerPolicies(overrides: Partial<Record<LimitKey, number>>): StreamerPolicies {
  return {
    routeOptions(method, template) {
      const route = `${method} ${template}`;
      const policies = limits
        .filter((row) =>
          row.routes.some((pattern) =>
            pattern.endsWith('*') ? route.startsWith(pattern.slice(0, -1)) : pattern === route,
          ),
        )
        .map(({ routes: _routes, configKey, ...policy }) => ({
          ...policy,
          limit: overrides[configKey] ?? policy.limit,
          ...(policy.algorithm === 'token-bucket' && { burst: overrides[configKey] ?? policy.limit }),
        }));
      const idem = idempotency[route];
      if (policies.length === 0 && idem === undefined) return undefined;
      return { policies, ...(idem && { idempotency: idem }) };
    },
  };
}
