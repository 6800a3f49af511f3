/**
 * The HTTP contract both adapters keep, over any transport and any stores: statuses, headers,
 * problem bodies, replays, quotas. Each test gets a fresh app on fresh stores.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Effects, streamChunks } from './fixtures/apps.ts';
import type { Received, Send } from './fixtures/client.ts';

export interface Subject {
  send: Send;
  close(): Promise<void>;
}

const key = () => randomBytes(16).toString('base64url');
const account = () => `acct_${randomBytes(4).toString('hex')}`;
const problemOf = (response: Received) => JSON.parse(response.body.toString()) as Record<string, unknown>;
const problemType = (slug: string) => `https://tollgate.dev/problems/${slug}`;

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 5000 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 1));
  expect(condition()).toBe(true);
}

export function describeHttpContract(name: string, open: (effects: Effects) => Promise<Subject>): void {
  describe(name, () => {
    let effects: Effects;
    let subject: Subject;
    let send: Send;
    beforeEach(async () => {
      effects = new Effects();
      subject = await open(effects);
      send = subject.send;
    });
    afterEach(() => subject.close());

    it('answers with draft-10 and legacy rate-limit headers', async () => {
      const response = await send({
        url: '/payments',
        headers: { 'idempotency-key': key(), 'x-account': account() },
        json: { amount: 100 },
      });
      expect(response.status).toBe(201);
      expect(response.headers['ratelimit-policy']).toBe('"payments";q=3;w=60');
      expect(response.headers.ratelimit).toMatch(/^"payments";r=2;t=\d+$/);
      expect(response.headers['x-ratelimit-limit']).toBe('3');
      expect(response.headers['x-ratelimit-remaining']).toBe('2');
      expect(Number(response.headers['x-ratelimit-reset'])).toBeGreaterThan(0);
      expect(response.headers['retry-after']).toBeUndefined();
      expect(JSON.parse(response.body.toString())).toEqual({ id: 1, amount: 100 });
    });

    it('replays byte for byte without spending the operation quota, then 429s new work', async () => {
      const headers = { 'idempotency-key': key(), 'x-account': account() };
      const first = await send({ url: '/payments', headers, json: { amount: 100 } });
      const again = await send({ url: '/payments', headers, json: { amount: 100 } });
      expect(again.status).toBe(201);
      expect(again.body.equals(first.body)).toBe(true);
      expect(again.headers['idempotent-replayed']).toBe('true');
      expect(again.headers.location).toBe(first.headers.location);
      expect(again.headers['content-type']).toBe(first.headers['content-type']);
      expect(first.headers['set-cookie']).toBeDefined();
      expect(again.headers['set-cookie']).toBeUndefined();
      expect(again.headers['x-ratelimit-remaining']).toBe('2'); // the replay cost nothing
      for (const remaining of ['1', '0']) {
        const other = { ...headers, 'idempotency-key': key() };
        const response = await send({ url: '/payments', headers: other, json: { amount: 1 } });
        expect([response.status, response.headers['x-ratelimit-remaining']]).toEqual([201, remaining]);
      }
      const limited = await send({
        url: '/payments',
        headers: { ...headers, 'idempotency-key': key() },
        json: { amount: 1 },
      });
      expect(limited.status).toBe(429);
      expect(limited.headers['content-type']).toMatch(/^application\/problem\+json/);
      const retryAfter = Number(limited.headers['retry-after']);
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(problemOf(limited)).toMatchObject({
        type: problemType('rate-limited'),
        title: 'Too Many Requests',
        status: 429,
        policies: ['payments'],
        retry_after: retryAfter,
      });
      expect(limited.headers['x-ratelimit-remaining']).toBe('0');
      expect(effects.count).toBe(3);
      const late = await send({ url: '/payments', headers, json: { amount: 100 } }); // still replays
      expect([late.status, late.headers['idempotent-replayed'], late.headers['retry-after']]).toEqual([
        201,
        'true',
        undefined,
      ]);
      expect(late.body.equals(first.body)).toBe(true);
    });

    it('answers 400 problems for a missing or malformed key, and runs nothing and spends nothing', async () => {
      const caller = account();
      const missing = await send({ url: '/payments', headers: { 'x-account': caller }, json: {} });
      expect(missing.status).toBe(400);
      expect(missing.headers['content-type']).toMatch(/^application\/problem\+json/);
      // Refused before the key's admission; the route's one policy counts operations, so there
      // are no counters to report.
      expect(missing.headers['ratelimit-policy']).toBeUndefined();
      expect(problemOf(missing)).toMatchObject({ type: problemType('idempotency-key-missing'), status: 400 });
      const malformed = await send({
        url: '/payments',
        headers: { 'x-account': caller, 'idempotency-key': 'short' },
        json: {},
      });
      expect(malformed.status).toBe(400);
      expect(problemOf(malformed)).toMatchObject({
        type: problemType('idempotency-key-malformed'),
        title: expect.any(String),
        detail: expect.any(String),
      });
      expect(effects.count).toBe(0);
      const valid = await send({
        url: '/payments',
        headers: { 'x-account': caller, 'idempotency-key': key() },
        json: {},
      });
      expect([valid.status, valid.headers['x-ratelimit-remaining']]).toEqual([201, '2']);
    });

    it('says so when it replays a response whose body was over maxResponseBytes (the body is not stored)', async () => {
      const headers = { 'idempotency-key': key(), 'x-account': account() };
      const first = await send({ url: '/capped', headers, json: { amount: 100 } });
      expect([first.status, first.headers['idempotent-replayed-body']]).toEqual([200, undefined]);
      expect(first.body.length).toBeGreaterThan(8);
      const replay = await send({ url: '/capped', headers, json: { amount: 100 } });
      expect([
        replay.status,
        replay.headers['idempotent-replayed'],
        replay.headers['idempotent-replayed-body'],
        replay.headers.location,
        replay.body.length,
      ]).toEqual([200, 'true', 'omitted', first.headers.location, 0]);
    });

    it('answers 422 for a key sent again to another resource (path parameters), and replays it for the same one', async () => {
      const headers = { 'idempotency-key': key(), 'x-account': account() };
      const first = await send({ url: '/accounts/acct_1/charge', headers, json: { amount: 100 } });
      expect(first.status).toBe(200);
      const runs = effects.count;
      const other = await send({ url: '/accounts/acct_2/charge', headers, json: { amount: 100 } });
      expect([other.status, problemOf(other).type]).toEqual([422, problemType('idempotency-key-mismatch')]);
      const again = await send({ url: '/accounts/acct_1/charge', headers, json: { amount: 100 } });
      expect([again.status, again.headers['idempotent-replayed']]).toEqual([200, 'true']);
      expect(effects.count).toBe(runs);
    });

    it('answers 422 for a key reused with another request, or 409 where the route says so', async () => {
      const headers = { 'idempotency-key': key(), 'x-account': account() };
      await send({ url: '/payments', headers, json: { amount: 100 } });
      const mismatch = await send({ url: '/payments', headers, json: { amount: 999 } });
      expect(mismatch.status).toBe(422);
      expect(problemOf(mismatch)).toMatchObject({
        type: problemType('idempotency-key-mismatch'),
        status: 422,
      });
      await send({ url: '/payments-409', headers, json: { amount: 100 } });
      const conflict = await send({ url: '/payments-409', headers, json: { amount: 999 } });
      expect(conflict.status).toBe(409);
      expect(problemOf(conflict)).toMatchObject({
        type: problemType('idempotency-key-mismatch'),
        status: 409,
      });
      expect(effects.count).toBe(2);
    });

    it('answers 409 with Retry-After while the first request runs, then replays it', async () => {
      const headers = { 'idempotency-key': key(), 'x-account': account() };
      const first = send({ url: '/slow', headers, json: { amount: 1 } });
      await until(() => effects.waiting === 1);
      const busy = await send({ url: '/slow', headers, json: { amount: 1 } });
      expect(busy.status).toBe(409);
      // The lease is 5 s, and renewed; the first request is usually done long before.
      const retryAfter = Number(busy.headers['retry-after']);
      expect(retryAfter).toBe(1);
      expect(problemOf(busy)).toMatchObject({
        type: problemType('idempotency-key-in-use'),
        status: 409,
        retry_after: retryAfter,
      });
      effects.release();
      const done = await first;
      const replay = await send({ url: '/slow', headers, json: { amount: 1 } });
      expect([done.status, replay.status, replay.headers['idempotent-replayed']]).toEqual([200, 200, 'true']);
      expect(replay.body.equals(done.body)).toBe(true);
      expect(effects.count).toBe(1);
    });

    it('waits for the first request and replays it on a route in wait mode', async () => {
      const headers = { 'idempotency-key': key(), 'x-account': account() };
      const first = send({ url: '/slow-wait', headers, json: {} });
      await until(() => effects.waiting === 1);
      const second = send({ url: '/slow-wait', headers, json: {} });
      await new Promise((resolve) => setTimeout(resolve, 30)); // let the second one start waiting
      effects.release();
      const [a, b] = await Promise.all([first, second]);
      expect([a.status, b.status, b.headers['idempotent-replayed']]).toEqual([200, 200, 'true']);
      expect(b.body.equals(a.body)).toBe(true);
      expect(effects.count).toBe(1);
    });

    it('frees the key when the handler throws, so a retry runs', async () => {
      const headers = { 'idempotency-key': key(), 'x-account': account() };
      effects.failures = 1;
      const failed = await send({ url: '/boom', headers, json: { amount: 5 } });
      expect(failed.status).toBe(500);
      const retried = await send({ url: '/boom', headers, json: { amount: 5 } });
      expect([retried.status, retried.headers['idempotent-replayed']]).toEqual([200, undefined]);
      const replayed = await send({ url: '/boom', headers, json: { amount: 5 } });
      expect(replayed.headers['idempotent-replayed']).toBe('true');
      expect(effects.count).toBe(1);
    });

    it('replays a streamed body byte for byte', async () => {
      const headers = { 'idempotency-key': key(), 'x-account': account() };
      const first = await send({ url: '/stream', headers, json: {} });
      const again = await send({ url: '/stream', headers, json: {} });
      const expected = Buffer.concat(streamChunks);
      expect(first.body.equals(expected)).toBe(true);
      expect(again.body.equals(expected)).toBe(true);
      expect([again.status, again.headers['idempotent-replayed']]).toEqual([200, 'true']);
      expect(again.headers['content-type']).toBe('application/octet-stream');
      expect(effects.count).toBe(1);
    });

    it('scopes keys by principal: another caller with the same key gets its own effect', async () => {
      const shared = key();
      const alice = await send({
        url: '/payments',
        headers: { 'idempotency-key': shared, 'x-account': account() },
        json: { amount: 7 },
      });
      const bob = await send({
        url: '/payments',
        headers: { 'idempotency-key': shared, 'x-account': account() },
        json: { amount: 7 },
      });
      expect([alice.status, bob.status, bob.headers['idempotent-replayed']]).toEqual([201, 201, undefined]);
      expect(JSON.parse(bob.body.toString()).id).toBe(2);
      expect(effects.count).toBe(2);
    });

    it('takes the key from a body field, ignoring excluded fields in the fingerprint', async () => {
      const invoice = `inv_${key()}`;
      const update = (id: number, payload?: string) => ({
        url: '/webhook',
        json: { update_id: id, message: payload === undefined ? {} : { invoice_payload: payload } },
      });
      const first = await send(update(1, invoice));
      const redelivered = await send(update(2, invoice));
      expect([first.status, redelivered.status, redelivered.headers['idempotent-replayed']]).toEqual([
        200,
        200,
        'true',
      ]);
      expect((await send(update(3))).status).toBe(400);
      expect((await send(update(4, `${invoice}-2`))).headers['idempotent-replayed']).toBeUndefined();
      expect(effects.count).toBe(2);
    });

    it('runs requests without a key on an optional route, and replays those with one', async () => {
      const headers = { 'x-account': account() };
      await send({ url: '/optional', headers, json: {} });
      await send({ url: '/optional', headers, json: {} });
      const keyed = { ...headers, 'idempotency-key': key() };
      await send({ url: '/optional', headers: keyed, json: {} });
      const replay = await send({ url: '/optional', headers: keyed, json: {} });
      expect(replay.headers['idempotent-replayed']).toBe('true');
      expect(effects.count).toBe(3);
    });

    it('limits before authentication per IP and route, naming the policy', async () => {
      for (const remaining of ['1', '0']) {
        const response = await send({ method: 'GET', url: '/search' });
        expect(response.status).toBe(200);
        expect(response.headers['ratelimit-policy']).toBe('"search";q=2;w=60');
        expect(response.headers['x-ratelimit-remaining']).toBe(remaining);
      }
      const limited = await send({ method: 'GET', url: '/search' });
      expect(limited.status).toBe(429);
      expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(problemOf(limited)).toMatchObject({ type: problemType('rate-limited'), policies: ['search'] });
    });
  });
}
