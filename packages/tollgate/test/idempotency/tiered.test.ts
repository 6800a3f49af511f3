import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import { IdempotencyEngine, type IdempotencyStore, scopeHash } from 'tollgate/idempotency';
import { PostgresIdempotencyStore } from 'tollgate/postgres';
import { RedisReplayCache, TieredIdempotencyStore } from 'tollgate/redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, keyPrefix, PrivateRedis } from '../../../../testkit/index.ts';
import { claimOf, request } from './contract.ts';

/** The truth, counting the claims that reach it. */
function counting(store: IdempotencyStore): IdempotencyStore & { claims: number } {
  const counted = Object.create(store) as IdempotencyStore & { claims: number };
  counted.claims = 0;
  counted.claim = (req) => {
    counted.claims++;
    return store.claim(req);
  };
  return counted;
}

const redisOptions = { maxRetriesPerRequest: 1, retryStrategy: () => 50 };

/** A client for a Redis this test kills on purpose: its connection errors are expected. */
function client(url: string): Redis {
  const redis = new Redis(url, redisOptions);
  redis.on('error', () => undefined);
  return redis;
}

describe('tiered store: PostgreSQL decides, Redis replays', () => {
  let pool: pg.Pool;
  let truth: PostgresIdempotencyStore;
  let server: PrivateRedis;

  beforeAll(async () => {
    pool = new pg.Pool({ connectionString: await freshDatabase(), max: 8 });
    truth = new PostgresIdempotencyStore({ pool });
    await truth.migrate();
    await pool.query('CREATE TABLE effects (key text NOT NULL, attempt int NOT NULL)');
    server = await PrivateRedis.start();
  });
  afterAll(async () => {
    await pool?.end();
    await server?.dispose();
  });

  it('replays a completed key from Redis without asking PostgreSQL, and refills Redis after a miss', async () => {
    const redis = client(server.url);
    const counted = counting(truth);
    const prefix = keyPrefix();
    const engine = new IdempotencyEngine({
      store: new TieredIdempotencyStore({ truth: counted, redis, prefix }),
    });
    const req = request();
    await claimOf(await engine.begin(req)).claim.complete({ status: 201, body: 'cached' });
    const before = counted.claims;
    for (let i = 0; i < 3; i++) expect((await engine.begin(req)).status).toBe('replay');
    expect(counted.claims).toBe(before);

    const cold = new IdempotencyEngine({
      store: new TieredIdempotencyStore({ truth: counted, redis, prefix: keyPrefix() }),
    });
    expect((await cold.begin(req)).status).toBe('replay'); // from PostgreSQL
    expect(counted.claims).toBe(before + 1);
    await new Promise((resolve) => setTimeout(resolve, 50)); // the refill is not awaited
    expect((await cold.begin(req)).status).toBe('replay'); // from Redis again
    expect(counted.claims).toBe(before + 1);
    redis.disconnect();
  });

  it('keeps a forgotten key forgotten when a replay that read the truth just before refills the cache late', async () => {
    const redis = client(server.url);
    // The truth answers claims 40 ms late: a replay reads the completed record, then the key is
    // forgotten, then the replay's refill of the cache arrives.
    let slow = false;
    const slowed = Object.create(truth) as IdempotencyStore;
    slowed.claim = async (req) => {
      const answer = await truth.claim(req);
      if (slow) await new Promise((resolve) => setTimeout(resolve, 40));
      return answer;
    };
    const prefix = keyPrefix();
    const tiered = new TieredIdempotencyStore({ truth: slowed, redis, prefix });
    const engine = new IdempotencyEngine({ store: tiered });
    try {
      const req = request();
      const first = claimOf(await engine.begin(req)).claim;
      await first.complete({ status: 201, body: 'used up' });
      await redis.del(prefix + scopeHash(req, req.key)); // evicted: the replay asks the truth
      slow = true;
      const replaying = engine.begin(req);
      await new Promise((resolve) => setTimeout(resolve, 10));
      expect(await engine.forget(req, { fence: first.fence })).toBe(true);
      expect((await replaying).status).toBe('replay'); // it read the truth before the forget
      slow = false;
      await new Promise((resolve) => setTimeout(resolve, 20)); // its refill has landed (or been refused)
      // Before: the refill put the forgotten answer back, replayed for the rest of its TTL.
      const again = await engine.begin({ ...req, fingerprint: request().fingerprint });
      expect(again.status).toBe('new');
    } finally {
      redis.disconnect();
    }
  });

  it('skips the cache on a claim told it just missed, and still replays what the truth completed', async () => {
    const redis = client(server.url);
    const cache = new RedisReplayCache({ redis, prefix: keyPrefix() });
    let gets = 0;
    const get = cache.get.bind(cache);
    cache.get = (scope) => {
      gets++;
      return get(scope);
    };
    const counted = counting(truth);
    const engine = new IdempotencyEngine({ store: new TieredIdempotencyStore({ truth: counted, cache }) });
    const req = request();
    await claimOf(await engine.begin(req, { cacheMissed: true })).claim.complete({
      status: 201,
      body: 'once',
    });
    expect([gets, counted.claims]).toEqual([0, 1]);
    await redis.del(`${cache.prefix}${scopeHash(req, req.key)}`); // the cache lost it
    const again = await engine.begin(req, { cacheMissed: true });
    expect(again.status === 'replay' && Buffer.from(again.response.body).toString()).toBe('once');
    expect([gets, counted.claims]).toEqual([0, 2]);
    // Without the hint the cache is read, and answers: the refill went out on the same connection first.
    expect((await engine.begin(req)).status).toBe('replay');
    expect(gets).toBe(1);
    expect(counted.claims).toBe(2);
    redis.disconnect();
  });

  it('with cacheOnComplete: false, caches nothing a rolled-back transaction completed', async () => {
    const redis = client(server.url);
    const prefix = keyPrefix();
    const req = request();
    const connection = await pool.connect();
    try {
      await connection.query('BEGIN');
      const inTransaction = new TieredIdempotencyStore({
        truth: truth.within(connection),
        redis,
        prefix,
        cacheOnComplete: false,
      });
      const begun = claimOf(await new IdempotencyEngine({ store: inTransaction }).begin(req));
      expect((await begun.claim.complete({ status: 201, body: 'never committed' })).ok).toBe(true);
      await connection.query('ROLLBACK');
    } finally {
      connection.release();
    }
    expect(await redis.exists(`${prefix}${scopeHash(req, req.key)}`)).toBe(0);
    const later = new IdempotencyEngine({ store: new TieredIdempotencyStore({ truth, redis, prefix }) });
    const retry = claimOf(await later.begin(req)); // the key is free: nothing was committed
    await retry.claim.complete({ status: 201, body: 'committed' });
    const replay = await later.begin(req);
    expect(replay.status === 'replay' && Buffer.from(replay.response.body).toString()).toBe('committed');
    redis.disconnect();
  });

  it('serves concurrent replays of different keys, read together, each its own response', async () => {
    const redis = client(server.url);
    const counted = counting(truth);
    const engine = new IdempotencyEngine({
      store: new TieredIdempotencyStore({ truth: counted, redis, prefix: keyPrefix() }),
    });
    const reqs = Array.from({ length: 20 }, () => request());
    for (const [i, req] of reqs.entries()) {
      await claimOf(await engine.begin(req)).claim.complete({ status: 200 + i, body: `body ${i}` });
    }
    const before = counted.claims;
    const replays = await Promise.all([...reqs, ...reqs].map((req) => engine.begin(req)));
    expect(counted.claims).toBe(before);
    for (const [i, replay] of replays.entries()) {
      if (replay.status !== 'replay') throw new Error(replay.status);
      expect(replay.response.status).toBe(200 + (i % 20));
      expect(Buffer.from(replay.response.body).toString()).toBe(`body ${i % 20}`);
    }
    redis.disconnect();
  });

  it('keeps claiming and replaying from PostgreSQL, promptly, while Redis is down', async () => {
    const outage = await PrivateRedis.start();
    const redis = client(outage.url);
    const engine = new IdempotencyEngine({
      store: new TieredIdempotencyStore({ truth, redis, prefix: keyPrefix(), redisTimeoutMs: 30 }),
    });
    const done = request();
    await claimOf(await engine.begin(done)).claim.complete({ status: 201, body: 'before the outage' });
    await outage.kill();
    const started = Date.now();
    expect((await engine.begin(done)).status).toBe('replay');
    const fresh = request();
    const { claim } = claimOf(await engine.begin(fresh));
    expect(await claim.complete({ status: 201, body: 'during the outage' })).toMatchObject({ ok: true });
    expect((await engine.begin(fresh)).status).toBe('replay');
    expect(Date.now() - started).toBeLessThan(2_000);
    redis.disconnect();
    await outage.dispose();
  });

  it('has each key take effect exactly once while Redis restarts empty mid-run', async () => {
    const keys = Array.from({ length: 24 }, () => randomBytes(16).toString('base64url'));
    const prefix = keyPrefix();
    const workers = Array.from({ length: 6 }, () => {
      const redis = client(server.url);
      const store = new TieredIdempotencyStore({ truth, redis, prefix, redisTimeoutMs: 30 });
      return { redis, engine: new IdempotencyEngine({ store, leaseMs: 5_000 }) };
    });
    const replays = new Map<string, Set<string>>();
    let completions = 0;
    let outage: Promise<void> | undefined;
    const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

    const serve = async (engine: IdempotencyEngine, worker: number, key: string, attempt: number) => {
      const begun = await engine.begin({ ...request({ key }), fingerprint: 'v1:same-request' });
      if (begun.status === 'new') {
        await pool.query('INSERT INTO effects (key, attempt) VALUES ($1, $2)', [
          key,
          worker * 1000 + attempt,
        ]);
        expect(
          await begun.claim.complete({ status: 201, body: `effect ${worker}/${attempt}` }),
        ).toMatchObject({
          ok: true,
        });
        // Mid-run, with most keys still unclaimed: Redis dies and comes back empty.
        if (++completions === 6) outage = server.kill().then(() => sleep(150).then(() => server.start()));
      } else if (begun.status === 'replay') {
        const seen = replays.get(key) ?? new Set<string>();
        seen.add(Buffer.from(begun.response.body).toString());
        replays.set(key, seen);
      }
      return begun.status;
    };

    await Promise.all(
      workers.map(async ({ engine }, worker) => {
        const pending = [...keys].sort(() => Math.random() - 0.5);
        for (let attempt = 1; pending.length > 0; attempt++) {
          const key = pending.shift()!;
          const status = await serve(engine, worker, key, attempt);
          if (status !== 'replay') pending.push(key); // come back for the answer
          if (status === 'in-flight') await sleep(2);
        }
      }),
    );
    expect(outage).toBeDefined();
    await outage;
    // Redis is back and empty: every key still replays its one answer, from PostgreSQL.
    for (const [worker, { engine }] of workers.entries()) {
      for (const key of keys) expect(await serve(engine, worker, key, 0)).toBe('replay');
    }
    const { rows } = await pool.query<{ key: string; n: number }>(
      'SELECT key, count(*)::int AS n FROM effects WHERE key = ANY($1) GROUP BY key',
      [keys],
    );
    expect(rows).toHaveLength(keys.length);
    for (const row of rows) expect(row.n).toBe(1);
    for (const key of keys) expect(replays.get(key)?.size).toBe(1); // every worker got the same answer
    for (const { redis } of workers) redis.disconnect();
  });
});
