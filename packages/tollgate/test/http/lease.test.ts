/**
 * Claims that stay claimed (issue 9 §2): the adapters keep a claim's lease alive while its
 * handler runs, so a retry of a slow request is a 409, never a second effect; and a process
 * that stalls past its lease (another process took the key over) never sends its own result
 * as the key's answer. Both adapters, over real ports, on Redis.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyPrefix, redisUrl } from '../../../../testkit/index.ts';
import { overHttp } from './fixtures/client.ts';
import { leaseApp } from './fixtures/lease-app.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.each(['fastify', 'express'] as const)('leases on %s', (framework) => {
  let redis: Redis;
  beforeAll(() => {
    redis = new Redis(redisUrl());
  });
  afterAll(() => redis.disconnect());

  it('keeps a slow handler’s claim: a retry during it gets 409, then the one answer', async () => {
    const prefix = keyPrefix();
    const app = await leaseApp({ framework, redisUrl: redisUrl(), prefix, leaseMs: 200 });
    try {
      const send = overHttp(app.url);
      const headers = { 'x-account': 'acct_lease', 'idempotency-key': randomBytes(16).toString('hex') };
      const slow = send({ url: '/charge', headers: { ...headers, 'x-wait-ms': '500' }, json: { amount: 1 } });
      await sleep(300); // past the lease: only a renewal keeps the key
      const retry = await send({ url: '/charge', headers, json: { amount: 1 } });
      expect(retry.status).toBe(409);
      expect(Number(retry.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      const first = await slow;
      expect([first.status, JSON.parse(first.body.toString())]).toEqual([201, { charge: 1 }]);
      const later = await send({ url: '/charge', headers, json: { amount: 1 } });
      expect([later.status, later.headers['idempotent-replayed']]).toEqual([201, 'true']);
      expect(later.body.equals(first.body)).toBe(true);
      expect(await redis.get(`${prefix}effects`)).toBe('1');
    } finally {
      await app.close();
    }
  });

  it('gives a hung handler’s key up after maxHoldMs: a retry runs it, and the hung one answers the key’s answer', async () => {
    const prefix = keyPrefix();
    const app = await leaseApp({ framework, redisUrl: redisUrl(), prefix, leaseMs: 150, maxHoldMs: 300 });
    try {
      const send = overHttp(app.url);
      const headers = { 'x-account': 'acct_hung', 'idempotency-key': randomBytes(16).toString('hex') };
      const hung = send({
        url: '/charge',
        headers: { ...headers, 'x-wait-ms': '1500' },
        json: { amount: 1 },
      });
      await sleep(250); // past the lease, within maxHoldMs: renewed
      expect((await send({ url: '/charge', headers, json: { amount: 1 } })).status).toBe(409);
      await sleep(600); // past maxHoldMs and the last renewal's lease
      const retry = await send({ url: '/charge', headers, json: { amount: 1 } });
      expect([retry.status, JSON.parse(retry.body.toString())]).toEqual([201, { charge: 2 }]);
      const late = await hung;
      expect(late.status).toBe(201);
      expect(late.body.equals(retry.body)).toBe(true); // the key's answer, never `{ charge: 1 }`
      expect(late.headers['idempotent-replayed']).toBe('true');
    } finally {
      await app.close();
    }
  });

  it('a stalled owner answers with the winner’s stored answer, not its own', async () => {
    const prefix = keyPrefix();
    const options = { framework, redisUrl: redisUrl(), prefix, leaseMs: 200 };
    const child: ChildProcess = fork(
      new URL('./fixtures/lease-app.ts', import.meta.url).pathname,
      [JSON.stringify(options)],
      {
        execArgv: ['--conditions=tollgate-source', '--import', 'tsx'],
      },
    );
    const { url } = await new Promise<{ url: string }>((resolve) =>
      child.once('message', resolve as (m: unknown) => void),
    );
    const winner = await leaseApp(options);
    try {
      const headers = { 'x-account': 'acct_stall', 'idempotency-key': randomBytes(16).toString('hex') };
      // The child runs the effect, then its event loop stands still for 2 s: no renewal.
      const stalled = overHttp(url)({
        url: '/charge',
        headers: { ...headers, 'x-stall-ms': '2000' },
        json: { amount: 1 },
      });
      for (let i = 0; i < 500 && (await redis.get(`${prefix}effects`)) !== '1'; i++) await sleep(10);
      await sleep(300); // past the 200 ms lease, which nothing renewed
      const taken = await overHttp(winner.url)({ url: '/charge', headers, json: { amount: 1 } });
      expect([taken.status, JSON.parse(taken.body.toString())]).toEqual([201, { charge: 2 }]);
      const late = await stalled;
      expect(late.status).toBe(201);
      expect(late.body.equals(taken.body)).toBe(true); // the key's answer, never `{ charge: 1 }`
      expect(late.headers['idempotent-replayed']).toBe('true');
      const replay = await overHttp(url)({ url: '/charge', headers, json: { amount: 1 } });
      expect(replay.body.equals(taken.body)).toBe(true);
    } finally {
      child.disconnect();
      await winner.close();
    }
  });
});
