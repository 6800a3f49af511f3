import { IdempotencyEngine, MemoryIdempotencyStore, Outcome, Sweeper } from 'tollgate/idempotency';
import { describe, expect, it } from 'vitest';
import { claimOf, request } from './contract.ts';
import { ManualClock } from './manual-clock.ts';

describe('claim timings that cannot work are refused at configuration', () => {
  it('refuses a lease, TTL or limit that is not a positive whole number, engine-wide, per route and per begin', async () => {
    const store = new MemoryIdempotencyStore();
    for (const bad of [
      { leaseMs: 0 },
      { leaseMs: -1000 },
      { leaseMs: Number.NaN },
      { leaseMs: 1.5 },
      { leaseMs: Infinity },
      { leaseMs: '30000' as unknown as number },
      { ttlMs: 0 },
      { ttlMs: -1 },
      { maxResponseBytes: -1 },
      { waitMs: -5 },
      { waitPollMs: 0 },
      { maxHoldMs: 0 },
    ]) {
      expect(() => new IdempotencyEngine({ store, ...bad }), JSON.stringify(bad)).toThrow(
        expect.objectContaining({ code: 'ERR_OPTION_INVALID' }),
      );
      const engine = new IdempotencyEngine({ store });
      await expect(engine.begin(request(), bad)).rejects.toMatchObject({ code: 'ERR_OPTION_INVALID' });
    }
    // What can work still does: an unbounded hold, no wait, bodies never stored.
    expect(
      () => new IdempotencyEngine({ store, maxHoldMs: Infinity, waitMs: 0, maxResponseBytes: 0 }),
    ).not.toThrow();
  });
});

describe('the engine over the memory store', () => {
  it('never stores set-cookie, date or rate-limit headers, even when a route allow-lists them', async () => {
    const engine = new IdempotencyEngine({
      store: new MemoryIdempotencyStore(),
      replayHeaders: ['Content-Type', 'X-Payment-Id', 'Set-Cookie', 'Date', 'RateLimit', 'Retry-After'],
    });
    const req = request();
    const { claim } = claimOf(await engine.begin(req));
    const headers = new Headers({
      'content-type': 'application/json',
      'x-payment-id': 'p_1',
      etag: '"v1"',
      'set-cookie': 'a=b',
      date: 'now',
      ratelimit: 'x',
      'retry-after': '1',
    });
    await claim.complete({ status: 201, headers, body: '{}' });
    expect(await engine.begin(req)).toMatchObject({
      status: 'replay',
      response: {
        headers: [
          ['content-type', 'application/json'],
          ['x-payment-id', 'p_1'],
          ['idempotent-replayed', 'true'],
        ],
      },
    });
  });

  it('keeps trying a release the store could not take, so the key comes free once the store is back', async () => {
    const memory = new MemoryIdempotencyStore();
    let down = false;
    const store = new Proxy(memory, {
      get(target, name, receiver) {
        if (name === 'release' && down) return () => Promise.reject(new Error('the store is down'));
        const value = Reflect.get(target, name, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const engine = new IdempotencyEngine({ store, leaseMs: 30_000 });
    const req = request();
    const { claim } = claimOf(await engine.begin(req));
    await claim.checkpoint('charged', { id: 'ch_1' });
    down = true;
    await expect(claim.complete({ status: 503 })).rejects.toThrow('the store is down');
    expect(await engine.begin(req)).toMatchObject({ status: 'in-flight' });
    await new Promise((resolve) => setTimeout(resolve, 1_500)); // a retry meanwhile fails too
    down = false;
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    const again = claimOf(await engine.begin(req)); // free long before the 30 s lease
    expect(again.checkpoint).toEqual({ name: 'charged', data: { id: 'ch_1' } });
  });

  it('follows a custom outcome policy', async () => {
    const engine = new IdempotencyEngine({
      store: new MemoryIdempotencyStore(),
      outcome: (status) => (status === 404 ? Outcome.Release : Outcome.Store),
    });
    const req = request();
    expect(await claimOf(await engine.begin(req)).claim.complete({ status: 404 })).toEqual({
      ok: true,
      outcome: 'release',
    });
    expect(await claimOf(await engine.begin(req)).claim.complete({ status: 503 })).toMatchObject({
      outcome: 'store',
    });
    expect(await engine.begin(req)).toMatchObject({ status: 'replay', response: { status: 503 } });
  });

  it('bounds a wait by the injected clock, then answers in-flight with the lease left', async () => {
    const clock = new ManualClock();
    const engine = new IdempotencyEngine({
      store: new MemoryIdempotencyStore({ clock }),
      clock,
      leaseMs: 10_000,
    });
    const req = request();
    claimOf(await engine.begin(req));
    expect(await engine.begin(req, { waitMs: 3_000, waitPollMs: 500 })).toEqual({
      status: 'in-flight',
      retryAfterSeconds: 7,
    });
    clock.advance(6_500);
    expect(await engine.begin(req)).toEqual({ status: 'in-flight', retryAfterSeconds: 1 });
    clock.advance(500);
    expect((await engine.begin(req)).status).toBe('new');
  });

  it('sweeps expired records in the background, batch by batch', async () => {
    const clock = new ManualClock();
    const store = new MemoryIdempotencyStore({ clock });
    const engine = new IdempotencyEngine({ store, clock, ttlMs: 1_000 });
    const sweeps: number[] = [];
    const counting = Object.create(store) as MemoryIdempotencyStore;
    counting.sweep = async (limit) => {
      const swept = await store.sweep(limit);
      sweeps.push(swept);
      return swept;
    };
    for (let i = 0; i < 5; i++) await claimOf(await engine.begin(request())).claim.complete({ status: 201 });
    clock.advance(1_001);
    const sweeper = new Sweeper(counting, { intervalMs: 5, batchSize: 2 });
    sweeper.start();
    while (sweeps.length < 3) await new Promise((resolve) => setTimeout(resolve, 5));
    await sweeper.stop();
    expect(sweeps.slice(0, 3)).toEqual([2, 2, 1]);
  });
});
