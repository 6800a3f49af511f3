/**
 * npm run bench:ratelimit — tollgate's rate limiter beside rate-limiter-flexible, in one run,
 * on one private Redis. Medians of several rounds; the last line is one JSON object.
 *
 *   node --expose-gc … bench/ratelimit.ts [--rounds 5] [--total 100000]
 */
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis } from 'rate-limiter-flexible';
import { type Check, definePolicy, MemoryRateLimitStore, RateLimiter } from 'tollgate';
import { RedisAdmissionStore, RedisIdempotencyStore, RedisRateLimitStore } from 'tollgate/redis';
import { PrivateRedis } from '../testkit/redis.ts';
import { compare, printTable, ratio } from './measure.ts';

const { values } = parseArgs({
  options: { rounds: { type: 'string', default: '5' }, total: { type: 'string', default: '100000' } },
});
const rounds = Number(values.rounds);
const total = Number(values.total);
const subjects = 10_000;
const principal = (i: number) => `acct_${String(i % subjects).padStart(6, '0')}`;
// Limits high enough that every decision is an admission: both sides do the same work.
const perUser = {
  name: 'per-user',
  algorithm: 'fixed-window',
  limit: 1e9,
  windowSeconds: 60,
  subject: ['principal'],
} as const;

async function memory() {
  const ours = new RateLimiter({ store: new MemoryRateLimitStore(), policies: [perUser] });
  const theirs = new RateLimiterMemory({ points: 1e9, duration: 60 });
  const contenders = {
    'tollgate memory': (i: number) => ours.check({ principal: principal(i) }),
    'rate-limiter-flexible RateLimiterMemory': (i: number) => theirs.consume(principal(i)),
  };
  const alone = await compare(contenders, { rounds, total, inFlight: 1 });
  printTable('memory store, 1 policy, 10k subjects, 1 in flight', alone);
  const many = await compare(contenders, { rounds, total, inFlight: 256 });
  printTable('memory store, 1 policy, 10k subjects, 256 in flight', many);
  return { alone, many };
}

async function redis(server: PrivateRedis) {
  const client = new Redis(server.url);
  const ours = (policies: (typeof perUser | object)[]) =>
    new RateLimiter({
      store: new RedisRateLimitStore({ redis: client, prefix: 'bench:tg:' }),
      policies: policies as never,
      storeTimeoutMs: 5000,
    });
  const one = ours([perUser]);
  const three = ours([
    perUser,
    {
      name: 'payments',
      algorithm: 'sliding-window',
      limit: 1e9,
      windowSeconds: 60,
      subject: ['principal', 'route'],
    },
    {
      name: 'burst',
      algorithm: 'token-bucket',
      limit: 1e6,
      windowSeconds: 1,
      burst: 1e9,
      subject: ['principal'],
    },
  ]);
  const theirs = new RateLimiterRedis({
    storeClient: client,
    points: 1e9,
    duration: 60,
    keyPrefix: 'bench:rlf',
  });
  const replay = await admissionOfCompletedKeys(client);
  const figures = await compare(
    {
      'tollgate redis, 1 policy': (i) => one.check({ principal: principal(i) }),
      'rate-limiter-flexible RateLimiterRedis': (i) => theirs.consume(principal(i)),
      'tollgate redis, 3 policies all-or-nothing': (i) =>
        three.check({ principal: principal(i), route: 'POST /pay' }),
      'tollgate RedisAdmissionStore, 3 policies + completed key': replay,
    },
    { rounds, total: total / 2, inFlight: 256 },
  );
  printTable('redis store (private redis-server, one ioredis connection), 256 in flight', figures);
  // One at a time nothing can share a round trip: this is the cost of a single decision.
  const alone = await compare(
    {
      'tollgate redis, 1 policy, 1 in flight': (i) => one.check({ principal: principal(i) }),
      'rate-limiter-flexible, 1 in flight': (i) => theirs.consume(principal(i)),
    },
    { rounds, total: total / 20, inFlight: 1 },
  );
  printTable('redis store, 1 in flight', alone);
  client.disconnect();
  return { ...figures, ...alone };
}

/**
 * One admission as the HTTP layer makes it for a replay: two request-counting policies paid,
 * one operation policy peeked, and the key found completed (a `RedisIdempotencyStore` record
 * with a small JSON response), all in the same script call.
 */
async function admissionOfCompletedKeys(client: Redis): Promise<(i: number) => Promise<unknown>> {
  const rateLimits = new RedisRateLimitStore({ redis: client, prefix: 'bench:adm:' });
  const store = new RedisAdmissionStore({ rateLimits, keys: { kind: 'record', prefix: 'bench:idem:' } });
  const records = new RedisIdempotencyStore({ redis: client, prefix: 'bench:idem:' });
  const keys = 1000;
  const claim = { fingerprint: 'v1:bench', leaseMs: 30_000, ttlMs: 3_600_000 };
  const response = {
    status: 201,
    headers: [['content-type', 'application/json']] as const,
    body: Buffer.from('{"id":"pay_1","amount":1000}'),
    bodyOmitted: false,
  };
  for (let k = 0; k < keys; k++) {
    const claimed = await records.claim({ scope: `key${k}`, ...claim });
    if (claimed.claimed)
      await records.complete({
        scope: `key${k}`,
        fence: claimed.fence,
        fingerprint: claim.fingerprint,
        response,
        ttlMs: 3_600_000,
      });
  }
  const perUserPolicy = definePolicy(perUser);
  const burst = definePolicy({
    name: 'burst',
    algorithm: 'token-bucket',
    limit: 1e6,
    windowSeconds: 1,
    burst: 1e9,
    subject: ['principal'],
  });
  const payments = definePolicy({
    name: 'payments',
    algorithm: 'sliding-window',
    limit: 1e9,
    windowSeconds: 60,
    subject: ['principal', 'route'],
  });
  return async (i) => {
    const subject = principal(i);
    const requestChecks: Check[] = [
      { policy: perUserPolicy, subject, cost: 1 },
      { policy: burst, subject, cost: 1 },
    ];
    const admission = await store.admit({
      requestChecks,
      operationChecks: [{ policy: payments, subject: `${subject}|POST /pay`, cost: 1 }],
      key: { scope: `key${i % keys}`, ...claim },
    });
    if (admission.key?.status !== 'found') throw new Error(`expected a replay, got ${admission.key?.status}`);
    return admission;
  };
}

/** Heap growth per idle key, after a full GC, with keys like `acct_000123`. */
async function bytesPerKey(): Promise<{ tollgate: number; rateLimiterFlexible: number } | undefined> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) return undefined;
  const keys = 200_000;
  const measure = async (fill: () => Promise<unknown>) => {
    gc();
    const before = process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
    const kept = await fill();
    gc();
    const after = process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
    void kept;
    return Math.round((after - before) / keys);
  };
  // A key whose quota is restored is idle and may be swept: a fixed window rolling over mid-run
  // would empty the store. A sliding window of an hour keeps every key live while it is measured.
  const live = { ...perUser, algorithm: 'sliding-window', windowSeconds: 3600 } as const;
  const tollgate = await measure(async () => {
    const store = new MemoryRateLimitStore({ maxKeys: keys * 2 });
    const limiter = new RateLimiter({ store, policies: [live] });
    for (let i = 0; i < keys; i++) await limiter.check({ principal: `acct_${String(i).padStart(6, '0')}` });
    if (store.size !== keys) throw new Error(`expected ${keys} live keys, found ${store.size}`);
    return store;
  });
  const rateLimiterFlexible = await measure(async () => {
    const limiter = new RateLimiterMemory({ points: 1e9, duration: 60 });
    for (let i = 0; i < keys; i++) await limiter.consume(`acct_${String(i).padStart(6, '0')}`);
    return limiter;
  });
  console.log(
    `\nbytes per idle key (${keys} keys): tollgate ${tollgate}, rate-limiter-flexible ${rateLimiterFlexible}`,
  );
  return { tollgate, rateLimiterFlexible };
}

const server = await PrivateRedis.start();
try {
  const mem = await memory();
  const red = await redis(server);
  const bytes = await bytesPerKey();
  const summary = {
    memoryOpsPerSecond: {
      tollgateOneInFlight: mem.alone['tollgate memory']!,
      rateLimiterFlexibleOneInFlight: mem.alone['rate-limiter-flexible RateLimiterMemory']!,
      tollgate256InFlight: mem.many['tollgate memory']!,
      rateLimiterFlexible256InFlight: mem.many['rate-limiter-flexible RateLimiterMemory']!,
    },
    redisOpsPerSecond: {
      tollgateOnePolicy: red['tollgate redis, 1 policy']!,
      tollgateThreePolicies: red['tollgate redis, 3 policies all-or-nothing']!,
      rateLimiterFlexible: red['rate-limiter-flexible RateLimiterRedis']!,
      tollgateAdmissionReplay: red['tollgate RedisAdmissionStore, 3 policies + completed key']!,
      tollgateOneInFlight: red['tollgate redis, 1 policy, 1 in flight']!,
      rateLimiterFlexibleOneInFlight: red['rate-limiter-flexible, 1 in flight']!,
    },
    ratios: {
      memoryOneInFlightVsRateLimiterFlexible: ratio(
        mem.alone['tollgate memory']!.opsPerSecond,
        mem.alone['rate-limiter-flexible RateLimiterMemory']!.opsPerSecond,
      ),
      memory256InFlightVsRateLimiterFlexible: ratio(
        mem.many['tollgate memory']!.opsPerSecond,
        mem.many['rate-limiter-flexible RateLimiterMemory']!.opsPerSecond,
      ),
      redisOnePolicyVsRateLimiterFlexible: ratio(
        red['tollgate redis, 1 policy']!.opsPerSecond,
        red['rate-limiter-flexible RateLimiterRedis']!.opsPerSecond,
      ),
      redisThreePoliciesVsRateLimiterFlexibleOne: ratio(
        red['tollgate redis, 3 policies all-or-nothing']!.opsPerSecond,
        red['rate-limiter-flexible RateLimiterRedis']!.opsPerSecond,
      ),
      redisAdmissionReplayVsRateLimiterFlexibleOne: ratio(
        red['tollgate RedisAdmissionStore, 3 policies + completed key']!.opsPerSecond,
        red['rate-limiter-flexible RateLimiterRedis']!.opsPerSecond,
      ),
      redisOneInFlightVsRateLimiterFlexible: ratio(
        red['tollgate redis, 1 policy, 1 in flight']!.opsPerSecond,
        red['rate-limiter-flexible, 1 in flight']!.opsPerSecond,
      ),
    },
    bytesPerIdleKey: bytes,
    targets: { memory: 1, redisOnePolicy: 1, redisThreePolicies: 0.9, bytesPerIdleKey: 150 },
    rounds,
    total,
  };
  console.log(
    `\nratios: memory ${summary.ratios.memoryOneInFlightVsRateLimiterFlexible}× at 1 in flight, ${summary.ratios.memory256InFlightVsRateLimiterFlexible}× at 256 (target ≥ 1), redis 1 policy ${summary.ratios.redisOnePolicyVsRateLimiterFlexible}× (≥ 1.0), redis 3 policies ${summary.ratios.redisThreePoliciesVsRateLimiterFlexibleOne}× (≥ 0.9), admission replay ${summary.ratios.redisAdmissionReplayVsRateLimiterFlexibleOne}×, redis 1 in flight ${summary.ratios.redisOneInFlightVsRateLimiterFlexible}×`,
  );
  console.log(JSON.stringify(summary));
} finally {
  await server.dispose();
}
