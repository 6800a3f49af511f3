import { describe, expect, it } from 'vitest';
import { loadPolicies } from '../../src/policies.ts';

const fixture = new URL('./fixtures/streamer.yaml', import.meta.url).pathname;
const document = loadPolicies({ path: fixture });

const vote = {
  name: 'vote',
  algorithm: 'sliding-window',
  limit: 30,
  windowSeconds: 60,
  subject: ['principal', 'body:streamer_id'],
  mode: 'enforce',
  counts: 'requests',
};
const worker = {
  name: 'worker',
  algorithm: 'token-bucket',
  limit: 120,
  windowSeconds: 60,
  subject: ['principal'],
  mode: 'enforce',
  counts: 'requests',
};
const day = 86_400_000;

describe('routeOptions()', () => {
  it('gives every route of seed 000 its idempotency row and its limits', () => {
    expect(document.routeOptions('POST', '/api/votes')).toEqual({
      policies: [vote],
      idempotency: { mode: 'required', key: { header: 'idempotency-key' }, ttlMs: day },
    });
    expect(document.routeOptions('POST', '/api/payments/stars/createInvoice')).toEqual({
      policies: [{ ...worker, name: 'invoice', limit: 3, windowSeconds: 300 }],
      idempotency: { mode: 'optional', key: { header: 'idempotency-key', generate: true }, ttlMs: 3_600_000 },
    });
    expect(document.routeOptions('POST', '/api/wallet/withdraw')).toEqual({
      policies: [{ ...worker, name: 'withdraw', limit: 2, windowSeconds: 3600 }],
      idempotency: { mode: 'required', key: { header: 'idempotency-key' }, ttlMs: day },
    });
    expect(document.routeOptions('POST', '/api/streamers')).toEqual({
      policies: [{ ...worker, name: 'streamer-submit', limit: 5, windowSeconds: 600 }],
    });
    for (const [template, ttlMs] of [
      ['/internal/worker/events', day],
      ['/internal/worker/media', day],
      ['/internal/worker/streamer-status', 300_000],
    ] as const) {
      expect(document.routeOptions('POST', template)).toEqual({
        policies: [worker],
        idempotency: { mode: 'required', key: { header: 'x-idempotency-key' }, ttlMs },
      });
    }
    expect(document.routeOptions('POST', '/integrations/telegram/payments')).toEqual({
      policies: [{ ...worker, name: 'telegram-webhook', limit: 100, subject: [] }],
      idempotency: {
        mode: 'required',
        key: { body: 'message.successful_payment.invoice_payload' },
        ttlMs: day,
      },
    });
  });

  it('matches a * prefix for any method when the row names none, and nothing outside it', () => {
    expect(document.routeOptions('GET', '/internal/worker/anything/:id')?.policies).toEqual([worker]);
    expect(document.routeOptions('POST', '/internal/workers')).toBeUndefined();
    expect(document.routeOptions('POST', '/internal/worker')).toBeUndefined();
  });

  it('matches the method of an exact row, case-insensitively, and says nothing of other routes', () => {
    expect(document.routeOptions('post', '/api/votes')?.policies).toEqual([vote]);
    expect(document.routeOptions('GET', '/api/votes')).toBeUndefined();
    expect(document.routeOptions('GET', '/api/wallet')).toBeUndefined();
    expect(document.routeOptions('POST', '/api/votes/')).toBeUndefined();
  });

  it('applies configuration values to the policy a route gets', () => {
    const tuned = loadPolicies({ path: fixture }, { overrides: { 'limits.workerBatchPerMin': 7 } });
    expect(tuned.routeOptions('POST', '/internal/worker/media')?.policies).toEqual([{ ...worker, limit: 7 }]);
    expect(tuned.routeOptions('POST', '/api/votes')?.policies).toEqual([vote]);
  });

  it('gives a route each shared limit once, and separate names separately, with lease, mismatch and exclude', () => {
    const shared = loadPolicies({
      text: `
version: 1
idempotency:
  - route: POST /orders
    key: { header: Idempotency-Key }
    lease: 45s
    mismatchStatus: 409
    exclude: [meta.trace_id]
limits:
  - { name: per-ip, scope: [ip], routes: ['/orders*'], limit: 10, window: 1m, algorithm: gcra, burst: 20, mode: shadow }
  - { name: per-ip, scope: [ip], routes: [POST /orders, GET /orders/:id], limit: 10, window: 1m, algorithm: gcra, burst: 20, mode: shadow }
  - { name: orders, scope: [principal], routes: [POST /orders], limit: 2, window: 1s, counts: operations, onStoreError: closed }
`,
    });
    const perIp = {
      name: 'per-ip',
      algorithm: 'gcra',
      limit: 10,
      windowSeconds: 60,
      burst: 20,
      subject: ['ip'],
      mode: 'shadow',
      counts: 'requests',
    };
    expect(shared.routeOptions('POST', '/orders')).toEqual({
      policies: [
        perIp,
        {
          name: 'orders',
          algorithm: 'token-bucket',
          limit: 2,
          windowSeconds: 1,
          subject: ['principal'],
          mode: 'enforce',
          onStoreError: 'closed',
          counts: 'operations',
        },
      ],
      idempotency: {
        mode: 'required',
        key: { header: 'idempotency-key' },
        ttlMs: day,
        leaseMs: 45_000,
        mismatchStatus: 409,
        exclude: ['meta.trace_id'],
      },
    });
    expect(shared.routeOptions('GET', '/orders/:id')).toEqual({ policies: [perIp] });
    expect(shared.routeOptions('DELETE', '/orders/:id')).toEqual({ policies: [perIp] });
  });
});

describe('routes() and unmatchedRoutes()', () => {
  const registered = [
    'POST /api/streamers',
    'GET /api/streamers/:id',
    'POST /api/payments/stars/createInvoice',
    'GET /api/payments/stars/invoices/:invoice_id',
    'POST /integrations/telegram/payments',
    'GET /api/wallet',
    'POST /api/votes',
    'POST /api/wallet/withdraw',
    'POST /internal/worker/events',
    'POST /internal/worker/media',
    'POST /internal/worker/streamer-status',
  ];

  it('lists every route the file names once, as written', () => {
    expect(document.routes()).toEqual([
      'POST /api/votes',
      'POST /api/payments/stars/createInvoice',
      'POST /api/wallet/withdraw',
      'POST /internal/worker/events',
      'POST /internal/worker/media',
      'POST /internal/worker/streamer-status',
      'POST /integrations/telegram/payments',
      'POST /api/streamers',
      '/internal/worker/*',
      '/integrations/telegram/payments',
    ]);
  });

  it("finds no unknown route in the streamer's file, and names a route or prefix over nothing", () => {
    expect(document.unmatchedRoutes(registered)).toEqual([]);
    const withoutWorkers = registered.filter((route) => !route.includes('/internal/worker/'));
    expect(document.unmatchedRoutes(withoutWorkers)).toEqual([
      'POST /internal/worker/events',
      'POST /internal/worker/media',
      'POST /internal/worker/streamer-status',
      '/internal/worker/*',
    ]);
    expect(document.unmatchedRoutes(registered.filter((route) => route !== 'POST /api/votes'))).toEqual([
      'POST /api/votes',
    ]);
  });

  it('lists the configuration keys', () => {
    expect(document.configKeys()).toEqual([
      'limits.votePerMin',
      'limits.streamerSubmitPer10m',
      'limits.invoicePer5m',
      'limits.withdrawPerHour',
      'limits.workerBatchPerMin',
      'limits.telegramWebhookPerMin',
    ]);
  });
});
