/**
 * The one admission per request (issue 9): all-or-nothing across request and operation
 * policies, refusals that change nothing (not even a PostgreSQL statement), Retry-After for
 * the instant every limit admits, anonymous callers kept off shared limits, subjects by body
 * field and path parameter, server-generated keys, and bodies that cannot be fingerprinted.
 * Fastify and Express, on the embedded default and on Redis + PostgreSQL.
 */
import { randomBytes } from 'node:crypto';
import express from 'express';
import Fastify from 'fastify';
import { Redis } from 'ioredis';
import pg from 'pg';
import type { TollgateOptions, TollgateRouteOptions } from 'tollgate/express';
import { type Exchange, tollgate as expressTollgate } from 'tollgate/express';
import { tollgate as fastifyTollgate } from 'tollgate/fastify';
import { PostgresIdempotencyStore } from 'tollgate/postgres';
import { RedisRateLimitStore, TieredIdempotencyStore } from 'tollgate/redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, keyPrefix, redisUrl } from '../../../../testkit/index.ts';
import { listen, patientStoreMs } from './fixtures/apps.ts';
import { overHttp, type Send } from './fixtures/client.ts';

type Stores = Pick<TollgateOptions<unknown>, 'rateLimitStore' | 'idempotencyStore'>;

/** A pg pool that counts the statements it is asked to run (on itself and on its clients). */
class CountingPool extends pg.Pool {
  statements = 0;
  override query(...args: unknown[]): never {
    this.statements++;
    return (super.query as (...a: unknown[]) => never)(...args);
  }
}

const key = () => randomBytes(16).toString('base64url');
/** Fixed windows of a day: a test never straddles a window's end. */
const day = 86_400;

/** Routes of one app; every handler counts its runs in `runs`. */
function routes(): Record<string, TollgateRouteOptions & { method?: 'GET' | 'POST' }> {
  return {
    '/pay': {
      idempotency: 'required',
      policies: [
        {
          name: 'per-user',
          algorithm: 'fixed-window',
          limit: 10,
          // A day, not a minute: aligned windows must not roll over between a test's requests.
          windowSeconds: 86_400,
          subject: ['principal'],
          counts: 'requests',
        },
        { name: 'pay', algorithm: 'fixed-window', limit: 1, windowSeconds: 86_400, subject: ['principal'] },
      ],
    },
    '/two-limits': {
      idempotency: 'required',
      policies: [
        {
          name: 'short',
          algorithm: 'token-bucket',
          limit: 1,
          windowSeconds: 2,
          subject: ['principal'],
          counts: 'requests',
        },
        { name: 'long', algorithm: 'token-bucket', limit: 1, windowSeconds: 60, subject: ['principal'] },
      ],
    },
    '/open': {
      method: 'GET',
      policies: [
        { name: 'everyone', algorithm: 'fixed-window', limit: 5, windowSeconds: day },
        { name: 'per-ip', algorithm: 'fixed-window', limit: 5000, windowSeconds: day, subject: ['ip'] },
      ],
    },
    '/votes': {
      policies: [
        {
          name: 'vote',
          algorithm: 'sliding-window',
          limit: 1,
          windowSeconds: 60,
          subject: ['principal', 'body:streamer_id'],
          counts: 'requests',
        },
      ],
    },
    '/items/:id': {
      method: 'GET',
      policies: [
        {
          name: 'item',
          algorithm: 'fixed-window',
          limit: 1,
          windowSeconds: day,
          subject: ['principal', 'param:id'],
        },
      ],
    },
    '/invoices': { idempotency: { mode: 'optional', key: { header: 'idempotency-key', generate: true } } },
    '/pay-in-steps': {
      idempotency: 'required',
      policies: [
        { name: 'pay', algorithm: 'fixed-window', limit: 3, windowSeconds: day, subject: ['principal'] },
      ],
    },
    '/pay-slowly': {
      idempotency: 'required',
      policies: [
        {
          name: 'per-user',
          algorithm: 'fixed-window',
          limit: 100,
          windowSeconds: day,
          subject: ['principal'],
          counts: 'requests',
        },
        { name: 'pay', algorithm: 'fixed-window', limit: 3, windowSeconds: day, subject: ['principal'] },
      ],
    },
  };
}

/** `/pay-in-steps` records its first step, then fails (503, the key released): the retry resumes. */
async function failsFirst(url: string, exchange: Exchange): Promise<boolean> {
  if (url !== '/pay-in-steps' || exchange.checkpoint !== null) return false;
  await exchange.claim!.checkpoint('charged', { at: 1 });
  return true;
}

/** `/pay-slowly` works until the test says it is done (`finish`), so copies sent meanwhile overlap it. */
let finished: Promise<void> = Promise.resolve();
let finish = () => undefined as void;
const working = (url: string) => (url === '/pay-slowly' ? finished : undefined);

interface Subject {
  send: Send;
  runs: () => number;
  close(): Promise<void>;
}

const principal = (headers: Record<string, unknown>) => headers['x-account'] as string | undefined;

async function fastifySubject(stores: Stores): Promise<Subject> {
  let runs = 0;
  const app = Fastify();
  await app.register(fastifyTollgate, {
    ...stores,
    storeTimeoutMs: patientStoreMs,
    principal: (request) => principal(request.headers),
  });
  for (const [url, { method = 'POST', ...config }] of Object.entries(routes())) {
    app.route({
      method,
      url,
      config: { tollgate: config },
      handler: async (request, reply) => {
        if (principal(request.headers) === undefined) return reply.code(401).send({ error: 'who are you' });
        await working(request.url);
        if (await failsFirst(request.url, request.tollgate!)) return reply.code(503).send({ retry: true });
        return reply.code(201).send({ run: ++runs, body: request.body ?? null });
      },
    });
  }
  const server = await listen(app);
  return { send: overHttp(server.url), runs: () => runs, close: server.close };
}

async function expressSubject(stores: Stores): Promise<Subject> {
  let runs = 0;
  const app = express();
  const gate = expressTollgate({
    ...stores,
    storeTimeoutMs: patientStoreMs,
    principal: (req) => principal(req.headers),
  });
  for (const [url, { method = 'POST', ...config }] of Object.entries(routes())) {
    app[method === 'GET' ? 'get' : 'post'](url, express.json(), gate(config), async (req, res) => {
      if (principal(req.headers) === undefined) return void res.status(401).json({ error: 'who are you' });
      await working(req.url);
      if (await failsFirst(req.url, res.locals.tollgate as Exchange))
        return void res.status(503).json({ retry: true });
      res.status(201).json({ run: ++runs, body: req.body ?? null });
    });
  }
  const server = await listen(app);
  return { send: overHttp(server.url), runs: () => runs, close: server.close };
}

describe.each([
  ['fastify', fastifySubject],
  ['express', expressSubject],
] as const)('one admission per request on %s', (_name, open) => {
  describe.each(['memory', 'redis+postgres'] as const)('on %s', (backend) => {
    let pool: CountingPool | undefined;
    let redis: Redis | undefined;
    let truth: PostgresIdempotencyStore | undefined;
    let subject: Subject;
    let account: string;

    beforeAll(async () => {
      if (backend === 'redis+postgres') {
        pool = new CountingPool({ connectionString: await freshDatabase(), max: 4 });
        truth = new PostgresIdempotencyStore({ pool });
        await truth.migrate();
        redis = new Redis(redisUrl());
      }
    });
    afterAll(async () => {
      redis?.disconnect();
      await pool?.end();
    });

    const fresh = async () => {
      await subject?.close();
      const prefix = keyPrefix();
      const stores: Stores =
        backend === 'memory'
          ? {}
          : {
              rateLimitStore: new RedisRateLimitStore({ redis: redis!, prefix: `${prefix}rl:` }),
              idempotencyStore: new TieredIdempotencyStore({
                truth: truth!,
                redis: redis!,
                prefix: `${prefix}idem:`,
              }),
            };
      subject = await open(stores);
      account = `acct_${randomBytes(4).toString('hex')}`;
    };
    afterAll(() => subject?.close());

    it('refuses all-or-nothing: a 429 spends no other policy and writes nothing to PostgreSQL', async () => {
      await fresh();
      const headers = { 'x-account': account, 'idempotency-key': key() };
      const first = await subject.send({ url: '/pay', headers, json: { amount: 1 } });
      expect(first.status).toBe(201);
      expect(first.headers.ratelimit).toMatch(/^"per-user";r=9;t=\d+, "pay";r=0;t=\d+$/);
      const before = pool?.statements ?? 0;
      const refused = await subject.send({
        url: '/pay',
        headers: { ...headers, 'idempotency-key': key() },
        json: { amount: 2 },
      });
      expect(refused.status).toBe(429);
      expect(JSON.parse(refused.body.toString())).toMatchObject({ policies: ['pay'] });
      expect(pool?.statements ?? 0).toBe(before); // no claim row, no statement at all
      // The refusal spent nothing of per-user: the replay below is the second request it counts.
      const replay = await subject.send({ url: '/pay', headers, json: { amount: 1 } });
      expect([replay.status, replay.headers['idempotent-replayed']]).toEqual([201, 'true']);
      expect(replay.headers.ratelimit).toMatch(/^"per-user";r=8;t=\d+, "pay";r=0;t=\d+$/);
      expect(replay.body.equals(first.body)).toBe(true);
      expect(subject.runs()).toBe(1);
    });

    it('counts a request with a missing or malformed key against the limits every request pays, never the operation ones', async () => {
      await fresh();
      const send = (headers: Record<string, string>) =>
        subject.send({ url: '/pay', headers: { 'x-account': account, ...headers }, json: { amount: 1 } });
      for (let i = 0; i < 5; i++) {
        const refused = await send(i % 2 === 0 ? { 'idempotency-key': 'short' } : {});
        expect(refused.status).toBe(400);
        expect(refused.headers['ratelimit']).toBe(
          `"per-user";r=${9 - i};t=${refused.headers['x-ratelimit-reset']}`,
        );
      }
      const paid = await send({ 'idempotency-key': key() }); // `pay` (an operation policy) still whole
      expect([paid.status, paid.headers['x-ratelimit-remaining']]).toEqual([201, '0']);
      for (let i = 0; i < 4; i++) expect((await send({ 'idempotency-key': 'short' })).status).toBe(400);
      const spent = await send({ 'idempotency-key': 'short' });
      expect([spent.status, JSON.parse(spent.body.toString()).policies]).toEqual([429, ['per-user']]);
      expect(subject.runs()).toBe(1);
    });

    it('runs copies of one request sent at once once, spending the operation limit once: the caller’s other payment goes through', async () => {
      await fresh();
      const copy = { 'x-account': account, 'idempotency-key': key() };
      // The payments run until every request that does not run has been answered (or 10 s).
      finished = new Promise((resolve) => {
        finish = resolve;
        setTimeout(resolve, 10_000).unref();
      });
      let answered = 0;
      const send = (headers: Record<string, string>) =>
        subject.send({ url: '/pay-slowly', headers, json: { amount: 7 } }).then((answer) => {
          if (++answered === 11) finish();
          return answer;
        });
      const answers = await Promise.all([
        ...Array.from({ length: 12 }, () => send(copy)),
        send({ ...copy, 'idempotency-key': key() }),
      ]);
      const copies = answers.slice(0, 12).map((answer) => answer.status);
      expect(copies.filter((status) => status === 201)).toHaveLength(1);
      expect(copies.filter((status) => status === 409)).toHaveLength(11);
      expect(answers.slice(0, 12).find((answer) => answer.status === 409)?.headers['retry-after']).toBe('1');
      expect(answers[12]!.status).toBe(201); // the other payment: never a 429
      expect(subject.runs()).toBe(2);
      // Two payments ran: `pay` has one left, and every request was counted by `per-user`.
      const third = await send({ ...copy, 'idempotency-key': key() });
      expect([third.status, third.headers['ratelimit']]).toEqual([
        201,
        expect.stringMatching(/^"per-user";r=86;t=\d+, "pay";r=0;t=\d+$/),
      ]);
      // Once the first is done, a copy is its replay.
      const replay = await send(copy);
      expect([replay.status, replay.headers['idempotent-replayed']]).toEqual([201, 'true']);
      expect(subject.runs()).toBe(3);
    });

    it('charges a retry that resumes an operation an earlier attempt paid for nothing more', async () => {
      await fresh();
      const headers = { 'x-account': account, 'idempotency-key': key() };
      const send = (h: Record<string, string>) =>
        subject.send({ url: '/pay-in-steps', headers: h, json: { amount: 3 } });
      // Each key fails once (503, the key released with its checkpoint) and is retried.
      for (const [i, h] of [headers, { ...headers, 'idempotency-key': key() }].entries()) {
        const left = String(2 - i);
        const failed = await send(h);
        expect([failed.status, failed.headers['x-ratelimit-remaining']]).toEqual([503, left]);
        const resumed = await send(h);
        expect([resumed.status, resumed.headers['x-ratelimit-remaining']]).toEqual([201, left]);
      }
      const third = await send({ ...headers, 'idempotency-key': key() });
      expect([third.status, third.headers['x-ratelimit-remaining']]).toEqual([503, '0']);
      expect((await send({ ...headers, 'idempotency-key': key() })).status).toBe(429);
      expect(subject.runs()).toBe(2);
    });

    it('names the first instant every limit admits in Retry-After', async () => {
      await fresh();
      const headers = { 'x-account': account };
      const first = await subject.send({
        url: '/two-limits',
        headers: { ...headers, 'idempotency-key': key() },
        json: {},
      });
      expect(first.status).toBe(201);
      // Both refuse now: "short" would admit within 2 s, "long" only in a minute.
      const refused = await subject.send({
        url: '/two-limits',
        headers: { ...headers, 'idempotency-key': key() },
        json: {},
      });
      expect(refused.status).toBe(429);
      expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(58);
      expect(JSON.parse(refused.body.toString()).policies.sort()).toEqual(['long', 'short']);
    });

    it('keeps anonymous traffic off the limits every caller shares', async () => {
      await fresh();
      for (let i = 0; i < 1000; i++) {
        const response = await subject.send({ method: 'GET', url: '/open' });
        expect(response.status).toBe(401);
      }
      const caller = await subject.send({ method: 'GET', url: '/open', headers: { 'x-account': account } });
      expect(caller.status).toBe(201);
      // The per-IP limit did count every anonymous request; the shared one only the caller.
      expect(caller.headers.ratelimit).toMatch(/^"everyone";r=4;t=\d+, "per-ip";r=3999;t=\d+$/);
    });

    it('counts per body field and per path parameter', async () => {
      await fresh();
      const headers = { 'x-account': account };
      const vote = (streamer_id: string) => subject.send({ url: '/votes', headers, json: { streamer_id } });
      expect((await vote('s1')).status).toBe(201);
      expect((await vote('s1')).status).toBe(429);
      expect((await vote('s2')).status).toBe(201);
      const item = (id: string) => subject.send({ method: 'GET', url: `/items/${id}`, headers });
      expect((await item('a')).status).toBe(201);
      expect((await item('a')).status).toBe(429);
      expect((await item('b')).status).toBe(201);
    });

    it('derives a key for a request that has none, and tells the client', async () => {
      await fresh();
      const headers = { 'x-account': account };
      const first = await subject.send({ url: '/invoices', headers, json: { stars: 5 } });
      const generated = first.headers['idempotency-key'];
      expect(first.status).toBe(201);
      expect(generated).toMatch(/^[A-Za-z0-9_-]{16,255}$/);
      const same = await subject.send({ url: '/invoices', headers, json: { stars: 5 } });
      expect([same.status, same.headers['idempotent-replayed'], same.headers['idempotency-key']]).toEqual([
        201,
        'true',
        generated,
      ]);
      expect(same.body.equals(first.body)).toBe(true);
      const other = await subject.send({ url: '/invoices', headers, json: { stars: 6 } });
      expect(other.headers['idempotency-key']).not.toBe(generated);
      expect(other.headers['idempotent-replayed']).toBeUndefined();
      // The key the server made is the client's to reuse; another caller's identical request is its own.
      const reused = await subject.send({
        url: '/invoices',
        headers: { ...headers, 'idempotency-key': generated! },
        json: { stars: 5 },
      });
      expect(reused.headers['idempotent-replayed']).toBe('true');
      const stranger = await subject.send({
        url: '/invoices',
        headers: { 'x-account': `${account}x` },
        json: { stars: 5 },
      });
      expect(stranger.headers['idempotent-replayed']).toBeUndefined();
      expect(subject.runs()).toBe(3);
    });

    it('answers 400 problem+json for a body that cannot be fingerprinted, and runs nothing', async () => {
      await fresh();
      const headers = { 'x-account': account, 'idempotency-key': key(), 'content-type': 'application/json' };
      const post = (body: string) => fetchRaw(subject, '/pay', headers, body);
      const deep = await post(`${'['.repeat(5000)}${']'.repeat(5000)}`);
      expect(deep.status).toBe(400);
      expect(deep.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(JSON.parse(deep.body.toString())).toMatchObject({
        type: 'https://tollgate.dev/problems/invalid-body',
        status: 400,
      });
      const huge = await post('{"amount":1e400}');
      expect(huge.status).toBe(400);
      expect(subject.runs()).toBe(0);
    });
  });
});

/** A raw body over the subject's transport (the JSON helper would re-serialise it). */
async function fetchRaw(subject: Subject, url: string, headers: Record<string, string>, body: string) {
  return subject.send({ url, headers, raw: body });
}
