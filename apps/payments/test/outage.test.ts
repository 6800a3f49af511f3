/**
 * The database unreachable, then back: every endpoint that needs it answers 503 +
 * `Retry-After` problem+json (reads too), `/health` says which component is down without its
 * error text, and the service recovers by itself. A stalled statement (a lock held elsewhere)
 * ends with 503 after the lock timeout instead of hanging.
 */
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CuttableProxy } from '../../../testkit/cuttable-proxy.ts';
import { freshDatabase, PrivateRedis, waitFor } from '../../../testkit/index.ts';
import { newKey, pay, type RunningService, startService } from './service.ts';

describe('an unreachable database', () => {
  let service: RunningService;
  let proxy: CuttableProxy;
  let direct: string;
  let transactionId: string;
  const logs: string[] = [];

  const get = (path: string) => fetch(service.url + path, { headers: { authorization: 'Bearer key-alice' } });

  beforeAll(async () => {
    direct = await freshDatabase();
    const url = new URL(direct);
    proxy = await CuttableProxy.start({ host: url.hostname, port: Number(url.port) });
    url.host = `127.0.0.1:${proxy.port}`;
    const logStream = new Writable({
      write(chunk, _encoding, done) {
        logs.push(String(chunk));
        done();
      },
    });
    service = await startService(
      {
        DATABASE_URL: url.toString(),
        API_KEYS: 'key-alice:alice',
        LOG_LEVEL: 'warn',
        DATABASE_CONNECT_TIMEOUT_MS: '500',
        DATABASE_LOCK_TIMEOUT_MS: '300',
        DATABASE_STATEMENT_TIMEOUT_MS: '2000',
      },
      { logStream },
    );
    transactionId = JSON.parse((await pay(service.url, { key: newKey() })).text).transaction_id;
  });
  afterAll(async () => {
    await proxy?.up().catch(() => undefined);
    await service?.close();
    await proxy?.down();
  });

  const paths = () => [
    ['GET', `/api/v1/payments/${transactionId}`],
    ['GET', '/api/v1/audit-logs'],
    ['POST', '/api/v1/payments'],
  ];

  it('answers every endpoint that needs it 503 + Retry-After while it is gone, and recovers by itself', {
    timeout: 60_000,
  }, async () => {
    await proxy.down();
    for (const [method, path] of paths()) {
      const response =
        method === 'POST'
          ? await pay(service.url, { key: newKey() })
          : await get(path!).then(async (r) => ({
              status: r.status,
              headers: r.headers,
              text: await r.text(),
            }));
      expect(response.status, `${method} ${path}`).toBe(503);
      expect(Number(response.headers.get('retry-after')), path).toBeGreaterThanOrEqual(1);
      expect(response.headers.get('content-type'), path).toMatch(/^application\/problem\+json/);
      expect(JSON.parse(response.text).status).toBe(503);
    }
    const health = await fetch(`${service.url}/health`);
    expect(health.status).toBe(503);
    expect(Number(health.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    const body = (await health.json()) as { services: { database: unknown } };
    expect(body.services.database).toEqual({ status: 'down', kind: 'postgres' });
    expect(JSON.stringify(body)).not.toMatch(/ECONNREFUSED|terminated|timeout|127\.0\.0\.1/i);
    expect(logs.join('')).toMatch(/health check failed/);
    expect((await fetch(`${service.url}/health/ready`)).status).toBe(503);
    expect((await fetch(`${service.url}/health/live`)).status).toBe(200);

    await proxy.up();
    let recovered = false;
    for (let attempt = 0; attempt < 100 && !recovered; attempt++) {
      recovered = (await get(`/api/v1/payments/${transactionId}`)).status === 200;
      if (!recovered) await sleep(100);
    }
    expect(recovered).toBe(true);
    expect((await get('/api/v1/audit-logs')).status).toBe(200);
    expect((await pay(service.url, { key: newKey() })).status).toBe(201);
    expect((await fetch(`${service.url}/health`)).status).toBe(200);
  });

  it('ends a statement stalled on a lock with 503 after the lock timeout, not a hang', {
    timeout: 30_000,
  }, async () => {
    const locker = new pg.Client({ connectionString: direct });
    await locker.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE payments IN ACCESS EXCLUSIVE MODE');
      const read = await get(`/api/v1/payments/${transactionId}`);
      expect(read.status).toBe(503);
      expect(read.headers.get('retry-after')).not.toBeNull();
      const write = await pay(service.url, { key: newKey() });
      expect(write.status).toBe(503);
    } finally {
      await locker.query('ROLLBACK');
      await locker.end();
    }
    expect((await get(`/api/v1/payments/${transactionId}`)).status).toBe(200);
  });
});

describe('the database lost while a payment is at the processor', () => {
  it('frees the key as soon as the database is back: the retry the 503 asked for is answered 201, not 409', {
    timeout: 60_000,
  }, async () => {
    const direct = new URL(await freshDatabase());
    const proxy = await CuttableProxy.start({ host: direct.hostname, port: Number(direct.port) });
    const url = new URL(direct);
    url.host = `127.0.0.1:${proxy.port}`;
    const service = await startService({
      DATABASE_URL: url.toString(),
      API_KEYS: 'key-alice:alice',
      DATABASE_CONNECT_TIMEOUT_MS: '500',
      DATABASE_STATEMENT_TIMEOUT_MS: '1000',
      PROCESSOR_LATENCY_MS: '1000',
    });
    try {
      const key = newKey();
      const first = pay(service.url, { key });
      await sleep(400); // phase 1 committed; the processor is working
      await proxy.down();
      const failed = await first;
      expect(failed.status, failed.text).toBe(503);
      await proxy.up();
      await sleep(Number(failed.headers.get('retry-after')) * 1000 + 1_500);
      const retry = await pay(service.url, { key });
      expect(retry.status, retry.text).toBe(201); // the lease (30 s) is far from over
      const { transaction_id } = JSON.parse(retry.text);
      const charges = await new pg.Client({ connectionString: direct.toString() });
      await charges.connect();
      try {
        const { rows } = await charges.query(
          'SELECT count(*)::int AS n FROM processor_charges WHERE downstream_key = $1',
          [`payments:${transaction_id}`],
        );
        expect(rows[0].n).toBe(1);
      } finally {
        await charges.end();
      }
    } finally {
      await service.close();
      await proxy.down();
    }
  });
});

describe('Redis lost, then back', () => {
  let service: RunningService;
  let redis: PrivateRedis;

  beforeAll(async () => {
    redis = await PrivateRedis.start();
    service = await startService({
      DATABASE_URL: await freshDatabase(),
      REDIS_URL: redis.url,
      API_KEYS: 'key-alice:alice',
      LOG_LEVEL: 'silent',
    });
  });
  afterAll(async () => {
    await service?.close();
    await redis?.dispose();
  });

  const get = (path: string) => fetch(service.url + path, { headers: { authorization: 'Bearer key-alice' } });

  it('keeps taking payments exactly once (limits fail open), says degraded, and cannot report limits', {
    timeout: 30_000,
  }, async () => {
    const key = newKey();
    const first = await pay(service.url, { key });
    expect(first.status).toBe(201);
    expect((await get('/api/v1/rate-limits')).status).toBe(200);

    await redis.kill();
    const during = await pay(service.url, { key: newKey() });
    expect(during.status).toBe(201); // PostgreSQL decides the key; the limits are not enforced meanwhile
    const replay = await pay(service.url, { key }); // the replay cache is gone: PostgreSQL answers
    expect([replay.status, replay.text]).toEqual([201, first.text]);
    const health = await fetch(`${service.url}/health`);
    expect([health.status, ((await health.json()) as { status: string }).status]).toEqual([200, 'degraded']);
    // Not "every limit untouched": the counters cannot be read.
    const limits = await get('/api/v1/rate-limits');
    expect([limits.status, limits.headers.get('retry-after')]).toEqual([503, '1']);
    expect(limits.headers.get('content-type')).toMatch(/^application\/problem\+json/);

    await redis.start(); // back, empty
    await waitFor(async () => (await get('/api/v1/rate-limits')).status === 200, 'the limits readable again');
    expect(((await (await fetch(`${service.url}/health`)).json()) as { status: string }).status).toBe(
      'healthy',
    );
    expect((await pay(service.url, { key: newKey() })).status).toBe(201);
  });
});
