import { performance } from 'node:perf_hooks';
import { type Clock, systemClock } from 'tollgate';
import { createRetryClient, RetryError } from 'tollgate/client';
import { afterEach, describe, expect, it } from 'vitest';
import { type FaultServer, reply, startFaultServer } from '../../../../testkit/fault-server.ts';

let server: FaultServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** A clock whose sleep records what it was asked and returns at once. */
function recordingSleep(now: Clock['now'] = systemClock.now) {
  const asked: number[] = [];
  const clock: Clock = { now, sleep: async (ms: number) => void asked.push(ms) };
  return { asked, clock };
}

describe('waiting as the server asks', () => {
  it('does not send the next attempt before Retry-After (real time, 1 s)', async () => {
    let answeredAt = 0;
    server = await startFaultServer((_seen, res) => {
      if (server!.seen.length > 1) return reply(res, 200);
      reply(res, 503, {}, { 'retry-after': '1' });
      answeredAt = performance.now();
    });
    const client = createRetryClient({ baseDelayMs: 1, maxDelayMs: 2 });
    const response = await client.fetch(`${server.url}/x`);
    expect(response.status).toBe(200);
    expect(server.seen[1]!.at - answeredAt).toBeGreaterThanOrEqual(1_000);
  });

  it('waits at least the RateLimit t of an exhausted policy on a 429', async () => {
    server = await startFaultServer((_seen, res) =>
      server!.seen.length === 1
        ? reply(res, 429, {}, { ratelimit: '"per-user";r=0;t=7, "global";r=900;t=60' })
        : reply(res, 200),
    );
    const { asked, clock } = recordingSleep();
    const client = createRetryClient({ baseDelayMs: 1, maxDelayMs: 2, clock, random: () => 0.99 });
    expect((await client.fetch(`${server.url}/x`, { method: 'POST' })).status).toBe(200);
    expect(asked).toHaveLength(1);
    expect(asked[0]).toBeGreaterThanOrEqual(7_000);
  });

  it("retries at Retry-After when a policy's full reset (t) lies past the deadline: a sliding window frees a request long before it is empty", async () => {
    server = await startFaultServer((_seen, res) =>
      server!.seen.length === 1
        ? reply(res, 429, {}, { 'retry-after': '7', ratelimit: '"payments";r=0;t=103, "burst";r=40;t=1' })
        : reply(res, 201),
    );
    const { asked, clock } = recordingSleep();
    const client = createRetryClient({ deadlineMs: 30_000, baseDelayMs: 1, maxDelayMs: 2, clock });
    expect(
      (
        await client.fetch(`${server.url}/x`, {
          method: 'POST',
          headers: { 'idempotency-key': 'k'.repeat(16) },
        })
      ).status,
    ).toBe(201);
    expect(asked).toHaveLength(1);
    expect(asked[0]).toBeGreaterThanOrEqual(7_000);
    expect(asked[0]).toBeLessThan(30_000);
  });

  it('reads an HTTP-date Retry-After against the injected clock', async () => {
    const now = Date.UTC(2030, 5, 1, 8, 0, 0);
    server = await startFaultServer((_seen, res) =>
      server!.seen.length === 1
        ? reply(res, 503, {}, { 'retry-after': new Date(now + 4_000).toUTCString() })
        : reply(res, 200),
    );
    const { asked, clock } = recordingSleep(() => now);
    const client = createRetryClient({ baseDelayMs: 1, maxDelayMs: 2, clock });
    expect((await client.fetch(`${server.url}/x`)).status).toBe(200);
    expect(asked[0]).toBeGreaterThanOrEqual(4_000);
  });

  it('gives up at once when Retry-After passes the deadline, and says why', async () => {
    server = await startFaultServer((_seen, res) => reply(res, 503, {}, { 'retry-after': '120' }));
    const { asked, clock } = recordingSleep();
    const client = createRetryClient({ deadlineMs: 2_000, clock });
    const error = (await client.fetch(`${server.url}/x`).catch((e: unknown) => e)) as RetryError;
    expect(error).toBeInstanceOf(RetryError);
    expect(error.code).toBe('ERR_RETRY_DEADLINE_EXCEEDED');
    expect(error.message).toMatch(/server asked to wait 120000 ms .*past the deadline/);
    expect(asked).toEqual([]); // no wait at all
    expect(server.seen).toHaveLength(1);
    expect(error.response?.status).toBe(503);
  });

  it('gives up when the deadline passes during an attempt', async () => {
    server = await startFaultServer(() => {}); // never answers
    const client = createRetryClient({ deadlineMs: 50, attemptTimeoutMs: 10_000 });
    const error = (await client.fetch(`${server.url}/x`).catch((e: unknown) => e)) as RetryError;
    expect(error.code).toBe('ERR_RETRY_DEADLINE_EXCEEDED');
    expect(error.message).toContain('the deadline of 50 ms passed');
    expect(error.attempts[0]!.result).toMatchObject({ code: 'ERR_RETRY_ATTEMPT_TIMEOUT' });
  });
});

describe('cancellation', () => {
  it('an abort during an hour-long backoff rejects at once (the real sleep)', async () => {
    server = await startFaultServer((_seen, res) => reply(res, 503, {}, { 'retry-after': '3600' }));
    const controller = new AbortController();
    const reason = new Error('user went away');
    const client = createRetryClient({
      deadlineMs: 7_200_000,
      onRetry: () => setImmediate(() => controller.abort(reason)),
    });
    const error = (await client
      .fetch(`${server.url}/x`, { signal: controller.signal })
      .catch((e) => e)) as RetryError;
    expect(error.code).toBe('ERR_RETRY_ABORTED');
    expect(error.cause).toBe(reason);
    expect(error.attempts).toHaveLength(1);
    expect(error.attempts[0]!.delayMs).toBeGreaterThanOrEqual(3_600_000);
  });

  it('an abort wins even over an injected sleep that ignores the signal', async () => {
    server = await startFaultServer((_seen, res) => reply(res, 503));
    const controller = new AbortController();
    const client = createRetryClient({
      clock: { now: systemClock.now, sleep: () => new Promise<void>(() => {}) }, // never resolves
      onRetry: () => setImmediate(() => controller.abort()),
    });
    const error = (await client
      .fetch(`${server.url}/x`, { signal: controller.signal })
      .catch((e) => e)) as RetryError;
    expect(error.code).toBe('ERR_RETRY_ABORTED');
    expect(server.seen).toHaveLength(1);
  });

  it('an abort during an attempt rejects without a retry', async () => {
    server = await startFaultServer(() => {}); // never answers
    const controller = new AbortController();
    const pending = createRetryClient().fetch(`${server.url}/x`, {
      method: 'POST',
      signal: controller.signal,
    });
    while (server.seen.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    controller.abort();
    await expect(pending).rejects.toMatchObject({ code: 'ERR_RETRY_ABORTED' });
    expect(server.seen).toHaveLength(1);
  });
});
