import { systemClock } from 'tollgate';
import { createRetryClient, RetryError, type RetryEvent, type RetryOptions } from 'tollgate/client';
import { afterEach, describe, expect, it } from 'vitest';
import { drop, type FaultServer, reply, startFaultServer } from '../../../../testkit/fault-server.ts';
import { freePort } from '../../../../testkit/ports.ts';

/** Fast, deterministic waits: the test is about what is sent, not about time. */
const quick: RetryOptions = { baseDelayMs: 1, maxDelayMs: 5, breaker: false, budget: false };
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

let server: FaultServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('retry client over real HTTP', () => {
  it('replays a POST whose connection dropped after processing: one effect, one key', async () => {
    const done = new Map<string, string>();
    let effects = 0;
    server = await startFaultServer((seen, res, req) => {
      const stored = seen.key && done.get(seen.key);
      if (stored) return reply(res, 201, JSON.parse(stored), { 'idempotent-replayed': 'true' });
      effects += 1;
      const payment = { id: `pay_${effects}` };
      done.set(seen.key!, JSON.stringify(payment));
      if (effects === 1) return drop(req); // processed, but the client never hears of it
      reply(res, 201, payment);
    });
    const client = createRetryClient(quick);

    const { response, idempotencyKey, attempts } = await client.request(`${server.url}/charges`, {
      method: 'POST',
      body: JSON.stringify({ amount: 10 }),
    });

    expect(response.status).toBe(201);
    expect(response.headers.get('idempotent-replayed')).toBe('true');
    expect(await response.json()).toEqual({ id: 'pay_1' });
    expect(effects).toBe(1);
    expect(idempotencyKey).toMatch(UUID_V4);
    expect(server.seen.map((s) => s.key)).toEqual([idempotencyKey, idempotencyKey]);
    expect(server.seen.map((s) => s.body)).toEqual(['{"amount":10}', '{"amount":10}']);
    expect(attempts.map((a) => a.result)).toEqual([
      { kind: 'error', code: 'UND_ERR_SOCKET', sent: true },
      { kind: 'response', status: 201 },
    ]);
  });

  it('uses the caller’s key, from the option or the header, on every attempt', async () => {
    server = await startFaultServer((_seen, res) => reply(res, server!.seen.length === 1 ? 503 : 201, {}));
    const client = createRetryClient(quick);
    const persisted = 'order-42-charge-0001';
    const viaOption = await client.request(`${server.url}/charges`, {
      method: 'POST',
      idempotencyKey: persisted,
    });
    expect(viaOption.idempotencyKey).toBe(persisted);
    const viaHeader = await client.request(`${server.url}/charges`, {
      method: 'POST',
      headers: { 'Idempotency-Key': 'from-the-header-0001' },
      idempotencyKey: 'ignored-when-a-header-is-set',
    });
    expect(viaHeader.idempotencyKey).toBe('from-the-header-0001');
    expect(server.seen.map((s) => s.key)).toEqual([persisted, persisted, 'from-the-header-0001']);
  });

  it('gives a new key to each logical operation and none to a GET', async () => {
    server = await startFaultServer((_seen, res) => reply(res, 200));
    const client = createRetryClient(quick);
    const a = await client.request(`${server.url}/x`, { method: 'POST' });
    const b = await client.request(`${server.url}/x`, { method: 'POST' });
    const c = await client.request(`${server.url}/x`);
    expect(a.idempotencyKey).not.toBe(b.idempotencyKey);
    expect(c.idempotencyKey).toBeUndefined();
    expect(server.seen[2]!.key).toBeUndefined();
  });

  it.each([408, 409, 429, 500, 502, 503, 504])('retries %i, then returns the success', async (status) => {
    server = await startFaultServer((_seen, res) => reply(res, server!.seen.length === 1 ? status : 200, {}));
    const response = await createRetryClient(quick).fetch(`${server.url}/x`, { method: 'POST' });
    expect(response.status).toBe(200);
    expect(server.seen).toHaveLength(2);
  });

  it.each([400, 401, 403, 404, 422])(
    'never retries %i: the response is handed back as is',
    async (status) => {
      server = await startFaultServer((_seen, res) => reply(res, status, { title: 'nope' }));
      const response = await createRetryClient(quick).fetch(`${server.url}/x`, { method: 'POST' });
      expect(response.status).toBe(status);
      expect(await response.json()).toEqual({ title: 'nope' });
      expect(server.seen).toHaveLength(1);
    },
  );

  it('does not repeat an unkeyed POST that may have been processed, but does repeat a GET', async () => {
    server = await startFaultServer((_seen, _res, req) => drop(req));
    const client = createRetryClient({ ...quick, keyedMethods: [] });
    const error = await client
      .fetch(`${server.url}/x`, { method: 'POST', body: 'a' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RetryError);
    expect((error as RetryError).code).toBe('ERR_RETRY_NOT_SAFE');
    expect((error as RetryError).idempotencyKey).toBeUndefined();
    expect(server.seen).toHaveLength(1);

    const exhausted = await client.fetch(`${server.url}/x`).catch((e: unknown) => e as RetryError);
    expect(exhausted).toMatchObject({ code: 'ERR_RETRY_ATTEMPTS_EXHAUSTED' });
    expect((exhausted as RetryError).attempts).toHaveLength(3);
    expect(server.seen).toHaveLength(4);
  });

  it('retries a refused connection even for an unkeyed POST: nothing was sent', async () => {
    const port = await freePort();
    const client = createRetryClient({
      ...quick,
      keyedMethods: [],
      onRetry: async () => {
        server ??= await startFaultServer((_seen, res) => reply(res, 201), port);
      },
      // Wait until the server listens: the point is that the second attempt is allowed at all.
      clock: {
        now: systemClock.now,
        sleep: async () => {
          while (!server) await new Promise((resolve) => setTimeout(resolve, 5));
        },
      },
    });
    const { response, attempts } = await client.request(`http://127.0.0.1:${port}/x`, {
      method: 'POST',
      body: 'a',
    });
    expect(response.status).toBe(201);
    expect(attempts[0]!.result).toEqual({ kind: 'error', code: 'ECONNREFUSED', sent: false });
    expect(server!.seen).toHaveLength(1);
  });

  it('times out a slow attempt and retries it with the same key', async () => {
    server = await startFaultServer((_seen, res) => {
      // The first answer comes long after the attempt timed out; the second at once, with a
      // timeout roomy enough that a loaded machine still sees it in time.
      if (server!.seen.length === 1) setTimeout(() => reply(res, 201, { late: true }), 3_000).unref();
      else reply(res, 201, { late: false });
    });
    const client = createRetryClient({ ...quick, attemptTimeoutMs: 400 });
    const { response, attempts, idempotencyKey } = await client.request(`${server.url}/x`, {
      method: 'POST',
    });
    expect(await response.json()).toEqual({ late: false });
    expect(attempts[0]!.result).toEqual({ kind: 'error', code: 'ERR_RETRY_ATTEMPT_TIMEOUT', sent: true });
    expect(server.seen.map((s) => s.key)).toEqual([idempotencyKey, idempotencyKey]);
  });

  it('gives up after maxAttempts with the history and the last response, unread', async () => {
    const gaveUp: RetryError[] = [];
    server = await startFaultServer((_seen, res) => reply(res, 503, { title: 'down' }));
    const client = createRetryClient({ ...quick, maxAttempts: 4, onGiveUp: (e) => gaveUp.push(e) });
    const error = (await client.fetch(`${server.url}/x`).catch((e: unknown) => e)) as RetryError;
    expect(error.code).toBe('ERR_RETRY_ATTEMPTS_EXHAUSTED');
    expect(error.message).toContain('all 4 attempts failed, the last with HTTP 503');
    expect(error.attempts.map((a) => a.attempt)).toEqual([1, 2, 3, 4]);
    expect(error.attempts.slice(0, 3).every((a) => a.delayMs !== undefined)).toBe(true);
    expect(await error.response?.json()).toEqual({ title: 'down' });
    expect(gaveUp).toEqual([error]);
  });

  it('tells onRetry why, after which attempt, how long it waits, and with which key', async () => {
    const events: RetryEvent[] = [];
    server = await startFaultServer((_seen, res, req) => {
      if (server!.seen.length === 1) return drop(req);
      if (server!.seen.length === 2) return reply(res, 429, {}, { 'retry-after': '0' });
      reply(res, 201);
    });
    const client = createRetryClient({ ...quick, random: () => 0.5, onRetry: (event) => events.push(event) });
    const { idempotencyKey } = await client.request(`${server.url}/x`, { method: 'POST' });
    expect(events).toEqual([
      {
        url: `${server.url}/x`,
        method: 'POST',
        attempt: 1,
        reason: 'connection_lost',
        delayMs: 0.5,
        idempotencyKey,
      },
      {
        url: `${server.url}/x`,
        method: 'POST',
        attempt: 2,
        reason: 'status_429',
        delayMs: 1,
        idempotencyKey,
      },
    ]);
  });
});
