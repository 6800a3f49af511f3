/**
 * `claim: 'handler'`: the adapter limits and parses the key, the handler claims (in its own
 * transaction, through the store it passes) and completes the claim itself.
 */
import express from 'express';
import Fastify, { type FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { type Exchange, tollgate as expressTollgate } from 'tollgate/express';
import { tollgate } from 'tollgate/fastify';
import { MemoryIdempotencyStore, scopeHash } from 'tollgate/idempotency';
import {
  RedisIdempotencyStore,
  RedisRateLimitStore,
  RedisReplayCache,
  TieredIdempotencyStore,
} from 'tollgate/redis';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { keyPrefix, redisUrl } from '../../../../testkit/index.ts';
import { listen } from './fixtures/apps.ts';
import { overHttp } from './fixtures/client.ts';

/** A store that counts the claims that reach it. */
class CountingStore extends MemoryIdempotencyStore {
  claims = 0;
  override claim(request: Parameters<MemoryIdempotencyStore['claim']>[0]) {
    this.claims++;
    return super.claim(request);
  }
}

const key = 'handler-claim-key-0001';

describe("Fastify route with idempotency { claim: 'handler' }", () => {
  let app: FastifyInstance;
  afterEach(() => app.close());

  async function build(options: { fail?: () => boolean; store?: MemoryIdempotencyStore } = {}) {
    const adapterStore = new CountingStore();
    const effects: string[] = [];
    app = Fastify();
    await app.register(tollgate, {
      idempotencyStore: adapterStore,
      principal: () => 'acct_1',
      policies: [
        { name: 'ops', algorithm: 'fixed-window', limit: 100, windowSeconds: 60, subject: ['principal'] },
      ],
    });
    app.post(
      '/charges',
      { config: { tollgate: { idempotency: { mode: 'required', claim: 'handler' } } } },
      async (request, reply) => {
        const exchange = request.tollgate!;
        const begun = await exchange.begin!(options.store ? { store: options.store } : {});
        if (begun.status === 'answered') {
          const { answer } = begun;
          return reply.code(answer.status).headers(answer.headers).send(Buffer.from(answer.body));
        }
        if (begun.checkpoint === null) await begun.claim.checkpoint('charged', effects.push('charge'));
        if (options.fail?.()) return reply.code(503).send({ retry: true });
        const body = JSON.stringify({ charges: effects.length, resumed: begun.checkpoint !== null });
        await begun.claim.complete({ status: 201, headers: { 'content-type': 'application/json' }, body });
        exchange.claim = undefined;
        return reply.code(201).headers(begun.headers).type('application/json').send(body);
      },
    );
    const send = (payload: object, idempotencyKey: string | null = key) =>
      app.inject({
        method: 'POST',
        url: '/charges',
        payload,
        headers: idempotencyKey ? { 'idempotency-key': idempotencyKey } : {},
      });
    return { send, effects, adapterStore };
  }

  it('replays what the handler completed, answers mismatches, and checks the key first', async () => {
    const { send, effects, adapterStore } = await build();
    const first = await send({ amount: 1 });
    expect([first.statusCode, first.json()]).toEqual([201, { charges: 1, resumed: false }]);
    expect(first.headers['x-ratelimit-remaining']).toBe('99');
    const again = await send({ amount: 1 });
    expect([again.statusCode, again.body, again.headers['idempotent-replayed']]).toEqual([
      201,
      first.body,
      'true',
    ]);
    expect((await send({ amount: 2 })).statusCode).toBe(422);
    expect((await send({ amount: 1 }, null)).statusCode).toBe(400);
    expect((await send({ amount: 1 }, 'short')).statusCode).toBe(400);
    expect(effects).toEqual(['charge']);
    // Only the new key was claimed (by the handler); the replay and the mismatch were answered by
    // the admission's lookup, and the two bad keys never reached a store.
    expect(adapterStore.claims).toBe(1);
  });

  it('claims through the store the handler passes, and a released claim resumes from its checkpoint', async () => {
    const own = new CountingStore();
    let failures = 1;
    const { send, effects, adapterStore } = await build({ store: own, fail: () => failures-- > 0 });
    expect((await send({ amount: 1 })).statusCode).toBe(503); // completed by the adapter: released
    const retry = await send({ amount: 1 });
    expect([retry.statusCode, retry.json()]).toEqual([201, { charges: 1, resumed: true }]);
    expect(effects).toEqual(['charge']);
    expect([own.claims, adapterStore.claims]).toEqual([2, 0]);
  });
});

describe("{ claim: 'handler' } with counters and keys on one Redis", () => {
  it('leaves the claim to the store the handler passes, never claiming it in the admission', async () => {
    const redis = new Redis(redisUrl());
    const prefix = keyPrefix();
    const gateStore = new RedisIdempotencyStore({ redis, prefix: `${prefix}idem:` });
    const own = new CountingStore();
    const app = Fastify();
    try {
      await app.register(tollgate, {
        rateLimitStore: new RedisRateLimitStore({ redis, prefix: `${prefix}rl:` }),
        idempotencyStore: gateStore,
        principal: () => 'acct_1',
        policies: [
          { name: 'ops', algorithm: 'fixed-window', limit: 100, windowSeconds: 60, subject: ['principal'] },
        ],
      });
      app.post(
        '/charges',
        { config: { tollgate: { idempotency: { mode: 'required', claim: 'handler' } } } },
        async (request, reply) => {
          const begun = await request.tollgate!.begin!({ store: own });
          if (begun.status === 'answered')
            return reply.code(begun.answer.status).send(Buffer.from(begun.answer.body));
          await begun.claim.complete({ status: 201, headers: {}, body: 'ok' });
          request.tollgate!.claim = undefined;
          return reply.code(201).send('ok');
        },
      );
      const send = () =>
        app.inject({
          method: 'POST',
          url: '/charges',
          payload: { a: 1 },
          headers: { 'idempotency-key': key },
        });
      expect((await send()).statusCode).toBe(201);
      expect(own.claims).toBe(1); // the handler's store holds the key…
      expect(await redis.keys(`${prefix}idem:*`)).toEqual([]); // …and the admission claimed nothing in Redis
    } finally {
      await app.close();
      redis.disconnect();
    }
  });
});

/** A Redis replay cache counting its reads (the admission's script reads it without them). */
class CountingCache extends RedisReplayCache {
  gets = 0;
  override get(scope: string) {
    this.gets++;
    return super.get(scope);
  }
}

describe('a tiered store behind a Redis admission', () => {
  it('reads the replay cache once per request: a claim after the admission missed asks the truth alone', async () => {
    const redis = new Redis(redisUrl());
    const prefix = keyPrefix();
    const cache = new CountingCache({ redis, prefix: `${prefix}cache:` });
    const truth = new CountingStore();
    const app = Fastify();
    try {
      await app.register(tollgate, {
        rateLimitStore: new RedisRateLimitStore({ redis, prefix: `${prefix}rl:` }),
        idempotencyStore: new TieredIdempotencyStore({ truth, cache }),
        principal: () => 'acct_1',
        policies: [
          { name: 'ops', algorithm: 'fixed-window', limit: 100, windowSeconds: 60, subject: ['principal'] },
        ],
      });
      let runs = 0;
      const body = () => JSON.stringify({ run: ++runs });
      app.post(
        '/by-handler',
        { config: { tollgate: { idempotency: { mode: 'required', claim: 'handler' } } } },
        async (request, reply) => {
          const begun = await request.tollgate!.begin!();
          if (begun.status === 'answered')
            return reply
              .code(begun.answer.status)
              .headers(begun.answer.headers)
              .send(Buffer.from(begun.answer.body));
          const answer = body();
          await begun.claim.complete({
            status: 201,
            headers: { 'content-type': 'application/json' },
            body: answer,
          });
          request.tollgate!.claim = undefined;
          return reply.code(201).type('application/json').send(answer);
        },
      );
      app.post(
        '/by-adapter',
        { config: { tollgate: { idempotency: { mode: 'required' } } } },
        async (_request, reply) => reply.code(201).type('application/json').send(body()),
      );
      for (const [i, url] of ['/by-handler', '/by-adapter'].entries()) {
        const send = () =>
          app.inject({
            method: 'POST',
            url,
            payload: { a: 1 },
            headers: { 'idempotency-key': `${key}-${i}` },
          });
        const first = await send();
        expect(first.statusCode).toBe(201);
        expect(truth.claims).toBe(2 * i + 1);
        expect(cache.gets).toBe(0); // the admission's script looked; the claim did not look again
        await vi.waitFor(async () => expect(await redis.keys(`${prefix}cache:*`)).toHaveLength(i + 1));

        const replay = await send(); // answered by the admission, from the cache
        expect([replay.statusCode, replay.body, replay.headers['idempotent-replayed']]).toEqual([
          201,
          first.body,
          'true',
        ]);
        expect(truth.claims).toBe(2 * i + 1);

        // The cache lost it (evicted, Redis restarted): the truth still answers, once, and the
        // cache is filled again.
        await redis.del(...(await redis.keys(`${prefix}cache:*`)));
        const fromTruth = await send();
        expect([fromTruth.statusCode, fromTruth.body]).toEqual([201, first.body]);
        expect(truth.claims).toBe(2 * i + 2);
        expect(cache.gets).toBe(0);
        await vi.waitFor(async () => expect(await redis.keys(`${prefix}cache:*`)).toHaveLength(1));
      }
      expect(runs).toBe(2);
    } finally {
      await app.close();
      redis.disconnect();
    }
  });
});

describe('a route whose keys live in a store of its own', () => {
  it('claims, replays and admits against the route’s store, never the plugin’s', async () => {
    const pluginStore = new CountingStore();
    const routeStore = new MemoryIdempotencyStore();
    const app = Fastify();
    let runs = 0;
    try {
      await app.register(tollgate, { idempotencyStore: pluginStore, principal: () => 'acct_1' });
      app.post(
        '/charges',
        {
          config: {
            tollgate: {
              idempotency: { mode: 'required', store: routeStore },
              policies: [
                {
                  name: 'ops',
                  algorithm: 'fixed-window',
                  limit: 1,
                  windowSeconds: 86_400,
                  subject: ['principal'],
                },
              ],
            },
          },
        },
        async (_request, reply) => reply.code(201).send({ run: ++runs }),
      );
      const send = (idempotencyKey: string) =>
        app.inject({
          method: 'POST',
          url: '/charges',
          payload: { a: 1 },
          headers: { 'idempotency-key': idempotencyKey },
        });
      expect((await send(key)).statusCode).toBe(201);
      expect((await send('handler-claim-key-0002')).statusCode).toBe(429); // the one operation is spent
      const replay = await send(key); // …yet the replay is answered from the route's store
      expect([replay.statusCode, replay.headers['idempotent-replayed'], replay.json()]).toEqual([
        201,
        'true',
        { run: 1 },
      ]);
      expect(pluginStore.claims).toBe(0);
      expect(routeStore.find({ scope: replayScope(), fingerprint: '', leaseMs: 1, ttlMs: 1 }).status).toBe(
        'found',
      );
    } finally {
      await app.close();
    }
  });
});

/** The scope of `key` for acct_1 on POST /charges. */
function replayScope(): string {
  return scopeHash({ principal: 'acct_1', method: 'POST', route: '/charges' }, key);
}

describe("Express route with idempotency { claim: 'handler' }", () => {
  it('releases a key its handler claimed and then failed, so the retry runs', async () => {
    const gate = expressTollgate({ principal: () => 'acct_1' });
    const app = express();
    let attempts = 0;
    app.post(
      '/charges',
      express.json(),
      gate({ idempotency: { mode: 'required', claim: 'handler' } }),
      async (_req, res) => {
        const exchange = res.locals.tollgate as Exchange;
        const begun = await exchange.begin!();
        if (begun.status === 'answered') {
          res.status(begun.answer.status).set(begun.answer.headers).end(Buffer.from(begun.answer.body));
          return;
        }
        attempts++;
        if (attempts === 1) return void res.status(503).json({ retry: true }); // left for the adapter to release
        res.status(201).json({ attempt: attempts });
      },
    );
    const server = await listen(app);
    try {
      const send = overHttp(server.url);
      const headers = { 'idempotency-key': key };
      expect((await send({ url: '/charges', headers, json: { a: 1 } })).status).toBe(503);
      const retry = await send({ url: '/charges', headers, json: { a: 1 } });
      expect([retry.status, JSON.parse(retry.body.toString())]).toEqual([201, { attempt: 2 }]);
    } finally {
      await server.close();
    }
  });
});
