/**
 * The one contract every idempotency store passes, driven through the engine. Each store's test
 * file calls {@link describeStoreContract} with a way to open it on real servers.
 */
import { randomBytes } from 'node:crypto';
import {
  type BeginRequest,
  type BeginResult,
  BeginStatus,
  fingerprint,
  IdempotencyEngine,
  type IdempotencyStore,
  sweepExpired,
} from 'tollgate/idempotency';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

export interface ContractSubject {
  readonly store: IdempotencyStore;
  /** Lets `ms` pass on the store's own clock (real time for servers, a manual clock for memory). */
  elapse(ms: number): Promise<void>;
  /** A lease (and TTL) short enough to wait out: real stores must sleep through it. */
  readonly shortMs: number;
  /** The store expires records itself (Redis), so `sweep` finds nothing. */
  readonly expiresItself: boolean;
  close(): Promise<void>;
}

let requests = 0;
/** A request with a fresh random key (so tests sharing a store never meet). */
export function request(overrides: Partial<BeginRequest> = {}): BeginRequest {
  const body = { amount: 1000, currency: 'EUR', n: requests++ };
  return {
    principal: 'acct_1',
    method: 'POST',
    route: '/payments',
    key: randomBytes(16).toString('base64url'),
    fingerprint: fingerprint({ method: 'POST', route: '/payments', body: { json: body } }),
    ...overrides,
  };
}

export function claimOf(result: BeginResult) {
  if (result.status !== BeginStatus.New) throw new Error(`expected a new claim, got ${result.status}`);
  return result;
}

/** How many answers had each status. */
export function countStatuses(answers: readonly { status: string }[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const { status } of answers) counts[status] = (counts[status] ?? 0) + 1;
  return counts;
}

export function describeStoreContract(name: string, open: () => Promise<ContractSubject>): void {
  describe(`${name}: the idempotency store contract`, () => {
    let subject: ContractSubject;
    let engine: IdempotencyEngine;
    const other = fingerprint({ method: 'POST', route: '/payments', body: { json: { amount: 1 } } });

    beforeAll(async () => {
      subject = await open();
      engine = new IdempotencyEngine({ store: subject.store });
    });
    afterAll(() => subject?.close());

    it('claims a new key once, then answers in-flight with a retry-after of the lease', async () => {
      const req = request();
      const first = claimOf(await engine.begin(req, { leaseMs: 30_000 }));
      expect(first.checkpoint).toBeNull();
      expect(first.claim.fence).toBeGreaterThan(0);
      const second = await engine.begin(req);
      expect(second).toEqual({ status: 'in-flight', retryAfterSeconds: 30 });
    });

    it('replays the status, allow-listed headers and byte-exact body of a completed key', async () => {
      const req = request();
      const { claim } = claimOf(await engine.begin(req));
      const body = Buffer.concat([randomBytes(64), Buffer.from([0xff, 0x00, 0xc3])]);
      const completed = await claim.complete({
        status: 201,
        headers: {
          'Content-Type': 'application/octet-stream',
          location: '/payments/p_1',
          link: ['</a>; rel="a"', '</b>; rel="b"'],
          'set-cookie': 'session=secret',
          date: 'Tue, 01 Jan 2030 00:00:00 GMT',
          ratelimit: 'limit=10, remaining=9',
          'x-ratelimit-remaining': '9',
          'x-request-id': 'req_1',
        },
        body,
      });
      expect(completed).toEqual({ ok: true, outcome: 'store', bodyOmitted: false });
      for (let i = 0; i < 2; i++) {
        const replay = await engine.begin(req);
        if (replay.status !== BeginStatus.Replay) throw new Error(`expected a replay, got ${replay.status}`);
        expect(replay.response.status).toBe(201);
        expect(Buffer.from(replay.response.body).equals(body)).toBe(true);
        expect(replay.response.bodyOmitted).toBe(false);
        expect(replay.response.headers).toEqual([
          ['content-type', 'application/octet-stream'],
          ['location', '/payments/p_1'],
          ['link', '</a>; rel="a"'],
          ['link', '</b>; rel="b"'],
          ['idempotent-replayed', 'true'],
        ]);
      }
    });

    it('answers mismatch to another request with the same key, in flight and completed', async () => {
      const req = request();
      const { claim } = claimOf(await engine.begin(req));
      expect(await engine.begin({ ...req, fingerprint: other })).toEqual({ status: 'mismatch' });
      await claim.complete({ status: 200, body: '{}' });
      expect(await engine.begin({ ...req, fingerprint: other })).toEqual({ status: 'mismatch' });
      expect((await engine.begin(req)).status).toBe('replay');
    });

    it('keeps principals, methods and routes apart under the same key', async () => {
      const req = request();
      const { claim } = claimOf(await engine.begin(req));
      await claim.complete({ status: 201, body: 'mine' });
      for (const scope of [{ principal: 'acct_2' }, { method: 'PUT' }, { route: '/refunds' }]) {
        const theirs = await engine.begin({ ...req, ...scope });
        expect(theirs.status).toBe('new');
      }
    });

    it('gives a lapsed lease to a retry with a larger fence and refuses every write of the stale owner', async () => {
      const req = request();
      const stale = claimOf(await engine.begin(req, { leaseMs: subject.shortMs })).claim;
      await subject.elapse(subject.shortMs * 2);
      const fresh = claimOf(await engine.begin(req));
      expect(fresh.claim.fence).toBeGreaterThan(stale.fence);
      const refused = { ok: false, reason: 'stale-fence' };
      expect(await stale.complete({ status: 201, body: 'stale' })).toEqual(refused);
      expect(await stale.extend()).toEqual(refused);
      expect(await stale.checkpoint('charged', { by: 'stale' })).toEqual(refused);
      expect(await stale.release()).toEqual(refused);
      expect(await stale.complete({ status: 500 })).toEqual(refused);
      expect(await engine.begin(req)).toMatchObject({ status: 'in-flight' });
      await fresh.claim.complete({ status: 201, body: 'fresh' });
      const replay = await engine.begin(req);
      if (replay.status !== 'replay') throw new Error(replay.status);
      expect(Buffer.from(replay.response.body).toString()).toBe('fresh');
      expect(await fresh.claim.complete({ status: 201, body: 'again' })).toEqual(refused);
    });

    it('hands the last checkpoint of a crashed claimant to the next one', async () => {
      const req = request();
      const { claim } = claimOf(await engine.begin(req, { leaseMs: subject.shortMs }));
      expect(await claim.checkpoint('created', { id: 'p_1' })).toEqual({ ok: true });
      expect(await claim.checkpoint('charged', { id: 'p_1', charge: 'ch_9', é: ['ü', 1.5, null] })).toEqual({
        ok: true,
      });
      await subject.elapse(subject.shortMs * 2); // the claimant died without a word
      expect(await engine.begin({ ...req, fingerprint: other })).toEqual({ status: 'mismatch' });
      const next = claimOf(await engine.begin(req));
      expect(next.checkpoint).toEqual({
        name: 'charged',
        data: { id: 'p_1', charge: 'ch_9', é: ['ü', 1.5, null] },
      });
      await next.claim.complete({ status: 201, body: 'done' });
      expect((await engine.begin(req)).status).toBe('replay');
    });

    it('releases the key on 5xx, 401, 403 and 429, keeping the checkpoint for the retry', async () => {
      for (const status of [500, 503, 401, 403, 429]) {
        const req = request();
        const first = claimOf(await engine.begin(req));
        await first.claim.checkpoint('step', status);
        expect(await first.claim.complete({ status, body: 'try again' })).toEqual({
          ok: true,
          outcome: 'release',
        });
        const retry = claimOf(await engine.begin(req));
        expect(retry.checkpoint).toEqual({ name: 'step', data: status });
        expect(retry.claim.fence).toBeGreaterThan(first.claim.fence);
      }
    });

    it('stores deterministic 4xx answers (a decline, a 404, a 422) for replay', async () => {
      for (const status of [402, 404, 409, 422]) {
        const req = request();
        const { claim } = claimOf(await engine.begin(req));
        expect(await claim.complete({ status, body: `no ${status}` })).toMatchObject({ outcome: 'store' });
        expect(await engine.begin(req)).toMatchObject({ status: 'replay', response: { status } });
      }
    });

    it('frees a key released before any checkpoint for any request, but binds it once work was recorded', async () => {
      const req = request();
      const first = claimOf(await engine.begin(req));
      expect(await first.claim.release()).toEqual({ ok: true });
      const corrected = claimOf(await engine.begin({ ...req, fingerprint: other }));
      await corrected.claim.checkpoint('started', true);
      await corrected.claim.release();
      expect(await engine.begin(req)).toEqual({ status: 'mismatch' });
      expect(claimOf(await engine.begin({ ...req, fingerprint: other })).checkpoint).toEqual({
        name: 'started',
        data: true,
      });
    });

    it('keeps the key through an extended lease', async () => {
      const req = request();
      const { claim } = claimOf(await engine.begin(req, { leaseMs: subject.shortMs }));
      expect(await claim.extend(60_000)).toEqual({ ok: true });
      await subject.elapse(subject.shortMs * 2);
      const answer = await engine.begin(req);
      expect(answer.status).toBe('in-flight');
      if (answer.status === 'in-flight') expect(answer.retryAfterSeconds).toBeGreaterThan(50);
    });

    it('completes a key whose response is over the cap without its body, so the effect never repeats', async () => {
      const req = request();
      const { claim } = claimOf(await engine.begin(req, { maxResponseBytes: 8 }));
      const result = await claim.complete({
        status: 201,
        headers: { 'content-type': 'text/plain' },
        body: '123456789',
      });
      expect(result).toEqual({ ok: true, outcome: 'store', bodyOmitted: true });
      const replay = await engine.begin(req);
      if (replay.status !== 'replay') throw new Error(replay.status);
      expect(replay.response).toMatchObject({ status: 201, bodyOmitted: true });
      expect(replay.response.body.byteLength).toBe(0);
      const exact = claimOf(await engine.begin(request(), { maxResponseBytes: 9 }));
      expect(await exact.claim.complete({ status: 200, body: '123456789' })).toMatchObject({
        bodyOmitted: false,
      });
    });

    it('waits for an in-flight claimant when the route asks, then replays its response', async () => {
      const req = request();
      const { claim } = claimOf(await engine.begin(req));
      const waiting = engine.begin(req, { waitMs: 5_000, waitPollMs: 20 });
      setTimeout(() => void claim.complete({ status: 201, body: 'waited' }), 60);
      const answer = await waiting;
      if (answer.status !== 'replay') throw new Error(answer.status);
      expect(Buffer.from(answer.response.body).toString()).toBe('waited');
      const impatient = request();
      claimOf(await engine.begin(impatient));
      expect(await engine.begin(impatient, { waitMs: 50, waitPollMs: 20 })).toMatchObject({
        status: 'in-flight',
      });
    });

    it('forgets a completed key after its TTL and sweeps expired records in batches', async () => {
      const reqs = Array.from({ length: 5 }, () => request());
      for (const req of reqs) {
        const { claim } = claimOf(await engine.begin(req, { ttlMs: subject.shortMs }));
        await claim.complete({ status: 201, body: 'short-lived' });
      }
      const live = request();
      claimOf(await engine.begin(live)); // in flight: never swept
      await subject.elapse(subject.shortMs * 2);
      const swept = await sweepExpired(subject.store, { batchSize: 2 });
      if (subject.expiresItself) expect(swept).toBe(0);
      else expect(swept).toBeGreaterThanOrEqual(reqs.length);
      expect(await sweepExpired(subject.store, { batchSize: 2 })).toBe(0);
      expect((await engine.begin(reqs[0]!)).status).toBe('new');
      expect((await engine.begin(live)).status).toBe('in-flight');
    });

    it('forgets a completed key on request, and never one in flight or released with work recorded', async () => {
      const done = request();
      const { claim } = claimOf(await engine.begin(done));
      expect(await engine.forget(done)).toBe(false); // in flight: a second effect could run
      await claim.complete({ status: 201, body: 'used up' });
      expect(await engine.forget({ ...done, principal: 'acct_2' })).toBe(false); // another's key
      expect((await engine.begin(done)).status).toBe('replay');
      expect(await engine.forget(done)).toBe(true);
      expect(await engine.forget(done)).toBe(false);
      // Free for any request now, a different body included.
      const again = claimOf(await engine.begin({ ...done, fingerprint: other }));
      expect(again.checkpoint).toBeNull();
      await again.claim.checkpoint('charged', { id: 1 });
      await again.claim.release();
      expect(await engine.forget(done)).toBe(false); // released with a checkpoint: the retry resumes it
      expect(claimOf(await engine.begin({ ...done, fingerprint: other })).checkpoint).toEqual({
        name: 'charged',
        data: { id: 1 },
      });
    });

    it('forgets, given a fence, only the record that claim completed, never a later one under the key', async () => {
      const req = request();
      const first = claimOf(await engine.begin(req)).claim;
      await first.complete({ status: 201, body: 'first' });
      expect(await engine.forget(req, { fence: first.fence })).toBe(true);
      const second = claimOf(await engine.begin(req)).claim;
      await second.complete({ status: 201, body: 'second' });
      expect(second.fence).not.toBe(first.fence);
      // The first answer's holder forgets late: the second answer stays.
      expect(await engine.forget(req, { fence: first.fence })).toBe(false);
      expect(await engine.begin(req)).toMatchObject({ status: 'replay' });
      expect(await engine.forget(req, { fence: second.fence })).toBe(true);
      expect((await engine.begin(req)).status).toBe('new');
    });

    it('grants exactly one of 25 concurrent begins on one key', async () => {
      const req = request();
      const answers = await Promise.all(Array.from({ length: 25 }, () => engine.begin(req)));
      expect(countStatuses(answers)).toEqual({ new: 1, 'in-flight': 24 });
    });
  });
}
