/**
 * Requests Fastify refuses before tollgate's admission — a body that fails the route's schema,
 * an unparsable body, an earlier hook's 4xx — still pay the policies every request pays: a
 * caller cannot send them without limit, and once those are spent gets 429 like any request.
 * They never pay operation policies, never claim a key, and run nothing. Over a real port, on
 * memory and on Redis.
 */
import { randomBytes } from 'node:crypto';
import Fastify from 'fastify';
import { Redis } from 'ioredis';
import { tollgate } from 'tollgate/fastify';
import { RedisIdempotencyStore, RedisRateLimitStore } from 'tollgate/redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyPrefix, redisUrl } from '../../../../testkit/index.ts';
import { listen, patientStoreMs } from './fixtures/apps.ts';
import { overHttp } from './fixtures/client.ts';

const day = 86_400;

describe.each(['memory', 'redis'] as const)('refused requests on %s', (backend) => {
  let redis: Redis | undefined;
  let server: { url: string; close(): Promise<void> };
  let runs = 0;
  beforeAll(async () => {
    const app = Fastify();
    if (backend === 'redis') redis = new Redis(redisUrl());
    const prefix = keyPrefix();
    await app.register(tollgate, {
      ...(redis && {
        rateLimitStore: new RedisRateLimitStore({ redis, prefix: `${prefix}rl:` }),
        idempotencyStore: new RedisIdempotencyStore({ redis, prefix: `${prefix}idem:` }),
      }),
      storeTimeoutMs: patientStoreMs,
      principal: (request) => request.headers['x-account'] as string | undefined,
    });
    app.post(
      '/pay',
      {
        // An app's own hook before the admission: refuses a caller it does not know.
        onRequest: (request, reply, done) => {
          if (request.headers['x-account'] === 'banned') reply.code(403).send({ error: 'banned' });
          else done();
        },
        schema: {
          body: {
            type: 'object',
            required: ['amount'],
            properties: { amount: { type: 'integer', minimum: 1 } },
          },
        },
        config: {
          tollgate: {
            idempotency: 'required',
            policies: [
              {
                name: 'per-user',
                algorithm: 'fixed-window',
                limit: 4,
                windowSeconds: day,
                subject: ['principal'],
                counts: 'requests',
              },
              {
                name: 'pay',
                algorithm: 'fixed-window',
                limit: 10,
                windowSeconds: day,
                subject: ['principal'],
              },
            ],
          },
        },
      },
      async (_request, reply) => reply.code(201).send({ run: ++runs }),
    );
    server = await listen(app);
  });
  afterAll(async () => {
    await server.close();
    redis?.disconnect();
  });

  const key = () => randomBytes(16).toString('hex');

  it('charges every refusal to the caller’s request policies, then answers 429; others are untouched', async () => {
    const send = overHttp(server.url);
    const caller = `acct_${key()}`;
    const headers = { 'x-account': caller, 'idempotency-key': key() };
    const invalid = await send({ url: '/pay', headers, json: { amount: 'ten' } });
    expect([invalid.status, invalid.headers['ratelimit']]).toEqual([
      400,
      `"per-user";r=3;t=${invalid.headers['x-ratelimit-reset']}`,
    ]);
    const unparsable = await send({
      url: '/pay',
      headers: { ...headers, 'content-type': 'application/json' },
      raw: '{"amount":',
    });
    expect([unparsable.status, unparsable.headers['x-ratelimit-remaining']]).toEqual([400, '2']);
    const paid = await send({ url: '/pay', headers, json: { amount: 1 } }); // the same key: never claimed
    expect([paid.status, JSON.parse(paid.body.toString())]).toEqual([201, { run: 1 }]);
    expect(paid.headers['ratelimit']).toMatch(/^"per-user";r=1;t=\d+, "pay";r=9;t=\d+$/); // no operation was paid
    expect(
      (await send({ url: '/pay', headers: { ...headers, 'idempotency-key': key() }, json: { amount: 0 } }))
        .status,
    ).toBe(400);
    const limited = await send({
      url: '/pay',
      headers: { ...headers, 'idempotency-key': key() },
      json: { amount: -1 },
    });
    expect(limited.status).toBe(429);
    expect(limited.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(JSON.parse(limited.body.toString())).toMatchObject({ status: 429, policies: ['per-user'] });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    const valid = await send({
      url: '/pay',
      headers: { ...headers, 'idempotency-key': key() },
      json: { amount: 1 },
    });
    expect(valid.status).toBe(429);
    const other = await send({
      url: '/pay',
      headers: { 'x-account': `acct_${key()}`, 'idempotency-key': key() },
      json: { amount: 'x' },
    });
    expect([other.status, other.headers['x-ratelimit-remaining']]).toEqual([400, '3']);
    expect(runs).toBe(1);
  });

  it('charges a refusal from an earlier hook to what its caller controls', async () => {
    const send = overHttp(server.url);
    for (let i = 0; i < 4; i++) {
      const refused = await send({
        url: '/pay',
        headers: { 'x-account': 'banned', 'idempotency-key': key() },
        json: { amount: 1 },
      });
      expect(refused.status).toBe(403);
    }
    const spent = await send({
      url: '/pay',
      headers: { 'x-account': 'banned', 'idempotency-key': key() },
      json: { amount: 1 },
    });
    expect(spent.status).toBe(429);
  });
});
