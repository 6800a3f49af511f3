import { createPaymentsClient, PaymentsApiError } from '@tollgate/payments/client';
import { createRetryClient, seededRandom } from 'tollgate/client';
import { afterEach, describe, expect, it } from 'vitest';
import { type PaymentsServer, startPaymentsServer } from './client-stand-in.ts';

let server: PaymentsServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const order = (n: number) => ({
  amount: 10 + n,
  currency: 'USD',
  payment_method: 'credit_card',
  metadata: { order_id: `ord_${n}` },
});

describe('payments client end to end', () => {
  it('creates every payment exactly once while the processor fails 30 % of the time', async () => {
    server = await startPaymentsServer({ failureRate: 0.3, seed: 7 });
    const api = createPaymentsClient({
      baseUrl: server.url,
      apiKey: 'test-api-key',
      retry: {
        maxAttempts: 8,
        baseDelayMs: 1,
        maxDelayMs: 10,
        random: seededRandom(3),
        budget: { ratio: 1 },
        // Exactly-once is the point here, not the breaker (breaker.test.ts): five failures in a
        // row among 60 concurrent payments depends on how a loaded machine orders them, and
        // an open circuit fails the rest fast.
        breaker: false,
      },
    });

    const results = await Promise.all(Array.from({ length: 60 }, (_, n) => api.payments.create(order(n))));

    expect(server.ledger).toHaveLength(60); // 60 payments, not one more
    expect(new Set(server.ledger.map((entry) => entry.key)).size).toBe(60);
    const byKey = new Map(server.ledger.map((entry) => [entry.key, entry.transactionId]));
    results.forEach((result, n) => {
      expect(result.value.transaction_id).toBe(byKey.get(result.idempotencyKey!));
      expect(result.value.metadata).toEqual({ order_id: `ord_${n}` });
    });
    // The faults really happened: some payments needed a retry, some answers were replays.
    expect(server.seen.length).toBeGreaterThan(60);
    expect(results.some((r) => r.replayed)).toBe(true);
    expect(results.some((r) => r.attempts.length > 1 && !r.replayed)).toBe(true);

    const fetched = await api.payments.get(results[0]!.value.transaction_id);
    expect(fetched.value).toEqual(results[0]!.value);
  });

  it('resumes an operation with a key persisted before a crash: the first payment is returned', async () => {
    server = await startPaymentsServer({ failureRate: 0 });
    const api = createPaymentsClient({ baseUrl: server.url, apiKey: 'test-api-key' });
    const first = await api.payments.create(order(1));
    const resumed = await api.payments.create(order(1), { idempotencyKey: first.idempotencyKey! });
    expect(resumed.replayed).toBe(true);
    expect(resumed.value).toEqual(first.value);
    expect(server.ledger).toHaveLength(1);
  });

  it('does not retry a 422 (same key, other request), 401 or 404, and says what the server said', async () => {
    server = await startPaymentsServer({ failureRate: 0 });
    const retry = createRetryClient({ baseDelayMs: 1 });
    const api = createPaymentsClient({ baseUrl: server.url, apiKey: 'test-api-key', retry });
    const first = await api.payments.create(order(1));
    const before = server.seen.length;

    const reused = await api.payments
      .create(order(2), { idempotencyKey: first.idempotencyKey! })
      .catch((e) => e);
    expect(reused).toBeInstanceOf(PaymentsApiError);
    expect(reused).toMatchObject({
      code: 'PAYMENTS_API_ERROR',
      status: 422,
      idempotencyKey: first.idempotencyKey,
    });
    expect(reused.message).toContain('Idempotency-Key reused with another request');

    const missing = await api.payments.get('txn_missing').catch((e) => e);
    expect(missing).toMatchObject({ status: 404 });

    const intruder = createPaymentsClient({ baseUrl: server.url, apiKey: 'wrong', retry });
    await expect(intruder.payments.create(order(3))).rejects.toMatchObject({ status: 401 });

    expect(server.seen.length - before).toBe(3); // one request each
    expect(server.ledger).toHaveLength(1);
  });

  it('reads the recommended retry configuration', async () => {
    server = await startPaymentsServer({ failureRate: 0 });
    const api = createPaymentsClient({ baseUrl: server.url, apiKey: 'test-api-key' });
    const { value } = await api.retryConfig();
    expect(value).toMatchObject({ max_attempts: 3, jitter: 'full' });
    expect(server.seen[0]).toMatchObject({ method: 'GET', path: '/api/v1/retry-config', key: undefined });
  });
});
