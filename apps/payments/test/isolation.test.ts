/**
 * One caller cannot lock out another: a flood of `simulate-concurrent` from one caller
 * charges its copies to that caller's own limits only, never to `global`, which every caller
 * shares; one simulation per caller runs at a time.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newKey, pay, paymentBody, type RunningService, scratchDir, startService } from './service.ts';

describe('simulate-concurrent flooded by one caller', () => {
  let service: RunningService;
  const dir = scratchDir();

  beforeAll(async () => {
    service = await startService({
      DATA_DIR: dir.path,
      API_KEYS: 'key-alice:alice,key-mallory:mallory',
      RATE_LIMIT_GLOBAL: '40',
      RATE_LIMIT_USER: '100000',
      // One aligned window for the whole test: the sliding estimate is then the exact count.
      RATE_LIMIT_USER_WINDOW_S: '86400',
      RATE_LIMIT_BURST_RATE: '100000',
      RATE_LIMIT_BURST_CAPACITY: '100000',
      RATE_LIMIT_PAYMENTS: '100000',
    });
  });
  afterAll(async () => {
    await service?.close();
    dir.dispose();
  });

  const simulate = (count: number, key = newKey()) =>
    fetch(`${service.url}/api/v1/simulate-concurrent?concurrent_count=${count}`, {
      method: 'POST',
      headers: {
        authorization: 'Bearer key-mallory',
        'idempotency-key': key,
        'content-type': 'application/json',
      },
      body: JSON.stringify(paymentBody),
    });

  it("leaves another caller's payments admitted, and charges the copies to the flooding caller", {
    timeout: 60_000,
  }, async () => {
    // 6 simulations of 50 copies: 300 requests reach the payment route, far past global's 40.
    let copies = 0;
    for (let round = 0; round < 6; round++) {
      const response = await simulate(50);
      expect(response.status).toBe(200);
      const report = (await response.json()) as { processed: number; replayed: number; conflicts: number };
      expect(report.processed).toBe(1);
      copies += 50;
    }
    expect(copies).toBeGreaterThan(40);
    const alice = await pay(service.url, { key: newKey(), apiKey: 'key-alice' });
    expect(alice.status).toBe(201);
    // The copies were counted against mallory's own per-user limit.
    const limits = (await (
      await fetch(`${service.url}/api/v1/rate-limits`, { headers: { authorization: 'Bearer key-mallory' } })
    ).json()) as { policies: { name: string; remaining: number }[] };
    const perUser = limits.policies.find((policy) => policy.name === 'per-user')!;
    expect(100_000 - perUser.remaining).toBeGreaterThanOrEqual(300);
  });

  it('runs one simulation per caller at a time: the others are told 429 with Retry-After', {
    timeout: 60_000,
  }, async () => {
    const answers = await Promise.all(Array.from({ length: 4 }, () => simulate(20)));
    const statuses = answers.map((answer) => answer.status).sort();
    expect(statuses.filter((status) => status === 200).length).toBeGreaterThanOrEqual(1);
    const refused = answers.filter((answer) => answer.status === 429);
    expect(refused.length).toBeGreaterThanOrEqual(1);
    for (const answer of refused) expect(answer.headers.get('retry-after')).toBe('1');
  });
});
