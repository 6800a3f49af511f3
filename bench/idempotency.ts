/**
 * npm run bench:idempotency — the idempotency engine beside the bare operations it is built on,
 * in one run, on one private redis-server and one private PostgreSQL. Contenders alternate
 * round by round (A, B, A, B…) after a warm-up so drift on a shared machine hits both alike;
 * figures are medians of the rounds. The last line is one JSON object.
 *
 *   tsx bench/idempotency.ts [--rounds 5]
 *
 * 1. Replay of a completed key through the tiered store (`engine.begin` → Redis read → decode →
 *    replay) vs a bare `GET` of the same cached bytes, same client, same concurrency (64, where
 *    the store shares round trips between concurrent replays, and 1, where it cannot).
 * 2. A new key claimed and completed in PostgreSQL (`begin` + `complete`) vs a bare
 *    `INSERT … ON CONFLICT DO NOTHING` + `UPDATE` of a row of the same shape, same pool.
 * 3. The same two on the memory store vs a bare `Map`.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import pg from 'pg';
import { type BeginRequest, IdempotencyEngine, MemoryIdempotencyStore } from 'tollgate/idempotency';
import { PostgresIdempotencyStore } from 'tollgate/postgres';
import { TieredIdempotencyStore } from 'tollgate/redis';
import { createDatabase, PrivatePostgres } from '../testkit/postgres.ts';
import { PrivateRedis } from '../testkit/redis.ts';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '5' } } });
const rounds = Number(values.rounds);

type Op = (i: number) => Promise<unknown>;

/** Ops per second of `total` calls of `op` with `inFlight` concurrent callers. */
async function round(op: Op, offset: number, total: number, inFlight: number): Promise<number> {
  let next = 0;
  const worker = async () => {
    while (next < total) await op(offset + next++);
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: inFlight }, worker));
  return total / ((performance.now() - started) / 1000);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Median ops/s of each contender; `i` never repeats across rounds (new keys stay new). */
async function compare(
  title: string,
  contenders: { ours: Op; bare: Op },
  options: { total: number; inFlight: number },
): Promise<{ ours: number; bare: number; ratio: number; rounds: { ours: number[]; bare: number[] } }> {
  const results = { ours: [] as number[], bare: [] as number[] };
  let offset = 0;
  for (let r = -1; r < rounds; r++) {
    for (const name of ['ours', 'bare'] as const) {
      const opsPerSecond = await round(contenders[name], offset, options.total, options.inFlight);
      offset += options.total;
      if (r >= 0) results[name].push(Math.round(opsPerSecond)); // round -1 is the warm-up
    }
  }
  const ours = median(results.ours);
  const bare = median(results.bare);
  const ratio = Number((ours / bare).toFixed(2));
  console.log(`\n${title} (${options.inFlight} in flight, ${options.total} ops per round, ${rounds} rounds)`);
  console.log(`  tollgate ${String(Math.round(ours)).padStart(9)} ops/s   rounds ${results.ours.join(' ')}`);
  console.log(`  bare     ${String(Math.round(bare)).padStart(9)} ops/s   rounds ${results.bare.join(' ')}`);
  console.log(`  ratio    ${ratio}×`);
  return { ours: Math.round(ours), bare: Math.round(bare), ratio, rounds: results };
}

const fingerprint = 'v1:bench-request';
const responseBody = JSON.stringify({
  id: 'pay_1',
  amount: 1000,
  currency: 'EUR',
  status: 'succeeded',
  pad: 'x'.repeat(400),
});
const response = {
  status: 201,
  headers: { 'content-type': 'application/json', location: '/payments/pay_1' },
  body: responseBody,
};
const runId = randomBytes(4).toString('hex');
const request = (i: number, tag: string): BeginRequest => ({
  principal: `acct_${i % 1000}`,
  method: 'POST',
  route: '/payments',
  key: `bench-${tag}-${runId}-${String(i).padStart(8, '0')}`,
  fingerprint,
});

async function replay(redisUrl: string, pool: pg.Pool) {
  const redis = new Redis(redisUrl);
  const prefix = `bench:${runId}:replay:`;
  const tiered = new TieredIdempotencyStore({ truth: new PostgresIdempotencyStore({ pool }), redis, prefix });
  const engine = new IdempotencyEngine({ store: tiered });
  const keys = 1000;
  for (let i = 0; i < keys; i++) {
    const begun = await engine.begin(request(i, 'replay'));
    if (begun.status !== 'new') throw new Error(`setup: ${begun.status}`);
    await begun.claim.complete(response);
  }
  const cacheKeys = (await redis.keys(`${prefix}*`)).sort();
  if (cacheKeys.length !== keys) throw new Error(`setup: ${cacheKeys.length} cached replays`);
  const figures = await compare(
    'replay of a completed key: tiered store vs bare Redis GET of the same bytes',
    {
      ours: async (i) => {
        const begun = await engine.begin(request(i % keys, 'replay'));
        if (begun.status !== 'replay') throw new Error(begun.status);
      },
      bare: (i) => redis.getBuffer(cacheKeys[i % keys]!),
    },
    { total: 20_000, inFlight: 64 },
  );
  // One at a time nothing can share a round trip: the cost of the layer itself.
  const sequential = await compare(
    'replay of a completed key, one at a time: tiered store vs bare Redis GET',
    {
      ours: async (i) => {
        const begun = await engine.begin(request(i % keys, 'replay'));
        if (begun.status !== 'replay') throw new Error(begun.status);
      },
      bare: (i) => redis.getBuffer(cacheKeys[i % keys]!),
    },
    { total: 4_000, inFlight: 1 },
  );
  redis.disconnect();
  return { figures, sequential };
}

async function claimComplete(pool: pg.Pool) {
  const engine = new IdempotencyEngine({ store: new PostgresIdempotencyStore({ pool }) });
  await pool.query('CREATE TABLE bench_bare (LIKE tollgate_idempotency INCLUDING ALL)');
  const body = Buffer.from(responseBody);
  const headers = JSON.stringify([
    ['content-type', 'application/json'],
    ['location', '/payments/pay_1'],
  ]);
  return compare(
    'new key, claim + complete in PostgreSQL vs bare INSERT … ON CONFLICT + UPDATE',
    {
      ours: async (i) => {
        const begun = await engine.begin(request(i, 'pg'));
        if (begun.status !== 'new') throw new Error(begun.status);
        await begun.claim.complete(response);
      },
      bare: async (i) => {
        const scope = `bare-${runId}-${i}`;
        await pool.query(
          `INSERT INTO bench_bare (scope, state, fingerprint, fence, lease_until, expires_at, created_at)
           VALUES ($1, 'in-flight', $2, 1, now() + interval '30 seconds', now() + interval '1 day', now())
           ON CONFLICT (scope) DO NOTHING`,
          [scope, fingerprint],
        );
        await pool.query(
          `UPDATE bench_bare SET state = 'completed', response_status = 201, response_headers = $2::jsonb,
           response_body = $3, response_body_omitted = false WHERE scope = $1 AND fence = 1`,
          [scope, headers, body],
        );
      },
    },
    { total: 2_000, inFlight: 16 },
  );
}

async function memory() {
  const engine = new IdempotencyEngine({ store: new MemoryIdempotencyStore() });
  const map = new Map<string, { state: string; response?: unknown }>();
  const newKey = await compare(
    'memory, new key: claim + complete vs bare Map get + set',
    {
      ours: async (i) => {
        const begun = await engine.begin(request(i, 'mem'));
        if (begun.status !== 'new') throw new Error(begun.status);
        await begun.claim.complete(response);
      },
      bare: async (i) => {
        const key = `bare-${i}`;
        if (map.get(key) === undefined) map.set(key, { state: 'in-flight' });
        map.set(key, { state: 'completed', response });
      },
    },
    { total: 50_000, inFlight: 1 },
  );
  const replayed = await compare(
    'memory, replay of a completed key vs bare Map get',
    {
      ours: async (i) => {
        const begun = await engine.begin(request(i % 1000, 'mem'));
        if (begun.status !== 'replay') throw new Error(begun.status);
      },
      bare: async (i) => map.get(`bare-${i % 1000}`),
    },
    { total: 50_000, inFlight: 1 },
  );
  return { newKey, replay: replayed };
}

const redisServer = await PrivateRedis.start();
const postgresServer = await PrivatePostgres.start();
try {
  const pool = new pg.Pool({
    connectionString: await createDatabase(postgresServer.url, 'tollgate_bench'),
    max: 16,
  });
  await new PostgresIdempotencyStore({ pool }).migrate();
  const replayFigures = await replay(redisServer.url, pool);
  const pgFigures = await claimComplete(pool);
  const memoryFigures = await memory();
  await pool.end();
  const summary = {
    bench: 'idempotency',
    rounds,
    replayTieredVsRedisGet: { ...pick(replayFigures.figures), target: 0.6 },
    replayOneAtATimeTieredVsRedisGet: pick(replayFigures.sequential),
    claimCompletePostgresVsBareSql: { ...pick(pgFigures), target: 0.6 },
    memoryNewKeyVsMap: pick(memoryFigures.newKey),
    memoryReplayVsMap: pick(memoryFigures.replay),
  };
  console.log(`\n${JSON.stringify(summary)}`);
} finally {
  await redisServer.dispose();
  await postgresServer.dispose();
}

function pick(f: { ours: number; bare: number; ratio: number }) {
  return { tollgateOpsPerSecond: f.ours, bareOpsPerSecond: f.bare, ratio: f.ratio };
}
