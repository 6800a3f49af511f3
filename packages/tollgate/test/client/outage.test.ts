import { systemClock } from 'tollgate';
import { type BreakerChange, createRetryClient, RetryError, type RetryErrorCode } from 'tollgate/client';
import { afterEach, describe, expect, it } from 'vitest';
import { type FaultServer, reply, startFaultServer } from '../../../../testkit/fault-server.ts';

let server: FaultServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function codeOf(pending: Promise<unknown>): Promise<RetryErrorCode | 'ok'> {
  try {
    await pending;
    return 'ok';
  } catch (error) {
    if (error instanceof RetryError) return error.code;
    throw error;
  }
}

describe('a dead server', () => {
  it('sees at most ~1.1× its normal load once the retry budget bites', async () => {
    server = await startFaultServer((_seen, res) => reply(res, 503));
    const operations = 300;
    const floor = 10; // minPerSecond 1 × a 10 s window
    const client = createRetryClient({
      maxAttempts: 3,
      baseDelayMs: 1,
      maxDelayMs: 2,
      breaker: false, // isolate the budget
      budget: { ratio: 0.1, minPerSecond: 1, windowMs: 10_000 },
      clock: { ...systemClock, now: () => 0 }, // one window for the whole run: the bound is exact, not a matter of timing
    });
    const codes: string[] = [];
    for (let batch = 0; batch < operations / 20; batch++) {
      const calls = Array.from({ length: 20 }, () => codeOf(client.fetch(`${server!.url}/x`)));
      codes.push(...(await Promise.all(calls)));
    }
    const sent = server.seen.length;
    // Without a budget this would be 3 × 300 = 900 requests.
    expect(sent).toBeLessThanOrEqual(operations * 1.1 + floor);
    expect(sent).toBeGreaterThan(operations); // retries did happen, within the budget
    expect(codes.filter((c) => c === 'ERR_RETRY_BUDGET_EXHAUSTED').length).toBeGreaterThan(operations / 2);
  });

  it('opens the breaker, fails fast, probes, and closes when the server recovers', async () => {
    let healthy = false;
    server = await startFaultServer((_seen, res) => reply(res, healthy ? 200 : 503));
    const time = { now: 1_000_000 };
    const changes: BreakerChange[] = [];
    const client = createRetryClient({
      maxAttempts: 1,
      budget: false,
      breaker: { halfOpenAfterMs: 5_000, probes: 1 },
      clock: { ...systemClock, now: () => time.now },
      onBreakerChange: (change) => changes.push(change),
    });
    const url = `${server.url}/x`;

    for (let i = 0; i < 5; i++) expect(await codeOf(client.fetch(url))).toBe('ERR_RETRY_ATTEMPTS_EXHAUSTED');
    expect(client.breakerState(url)).toBe('open');
    expect(await codeOf(client.fetch(url))).toBe('ERR_RETRY_CIRCUIT_OPEN');
    expect(server.seen).toHaveLength(5); // failing fast sends nothing

    time.now += 5_000;
    expect(await codeOf(client.fetch(url))).toBe('ERR_RETRY_ATTEMPTS_EXHAUSTED'); // the probe fails
    expect(client.breakerState(url)).toBe('open');
    expect(server.seen).toHaveLength(6);

    healthy = true;
    time.now += 5_000;
    expect(await codeOf(client.fetch(url))).toBe('ok'); // the probe succeeds
    expect(client.breakerState(url)).toBe('closed');
    expect(await codeOf(client.fetch(url))).toBe('ok');
    expect(changes.map((c) => `${c.from}→${c.to}`)).toEqual([
      'closed→open',
      'open→half-open',
      'half-open→open',
      'open→half-open',
      'half-open→closed',
    ]);
    expect(changes[0]!.host).toBe(server.url);
  });

  it('lets one probe through while half-open; concurrent calls fail fast', async () => {
    const pending: (() => void)[] = [];
    let healthy = false;
    server = await startFaultServer((_seen, res) => {
      if (!healthy) return reply(res, 503);
      pending.push(() => reply(res, 200)); // hold the probe until the test releases it
    });
    const time = { now: 0 };
    const client = createRetryClient({
      maxAttempts: 1,
      budget: false,
      breaker: { halfOpenAfterMs: 1_000 },
      clock: { ...systemClock, now: () => time.now },
    });
    const url = `${server.url}/x`;
    for (let i = 0; i < 5; i++) await codeOf(client.fetch(url));
    healthy = true;
    time.now += 1_000;
    const probe = codeOf(client.fetch(url));
    const others = await Promise.all([codeOf(client.fetch(url)), codeOf(client.fetch(url))]);
    expect(others).toEqual(['ERR_RETRY_CIRCUIT_OPEN', 'ERR_RETRY_CIRCUIT_OPEN']);
    while (pending.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    pending[0]!();
    expect(await probe).toBe('ok');
    expect(server.seen).toHaveLength(6);
    expect(client.breakerState(url)).toBe('closed');
  });

  it('keeps breakers per host: one dead host does not block another', async () => {
    server = await startFaultServer((_seen, res) => reply(res, 503));
    const healthy = await startFaultServer((_seen, res) => reply(res, 200));
    try {
      const client = createRetryClient({ maxAttempts: 1, budget: false });
      for (let i = 0; i < 5; i++) await codeOf(client.fetch(`${server.url}/x`));
      expect(client.breakerState(server.url)).toBe('open');
      expect(await codeOf(client.fetch(`${healthy.url}/x`))).toBe('ok');
      expect(client.breakerState(healthy.url)).toBe('closed');
    } finally {
      await healthy.close();
    }
  });
});
