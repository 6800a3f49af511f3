/**
 * npm run bench:http — a trivial JSON route behind each contender, loaded by autocannon over
 * loopback. Every contender serves from a child process of its own (so the load generator and
 * the server do not share an event loop); rounds alternate contenders (A, B, C, A, B, C…) after
 * a warm-up so drift on a shared machine hits all alike; figures are medians of the rounds'
 * requests per second. Redis and PostgreSQL are private servers of this run. The last line is
 * one JSON object.
 *
 *   tsx bench/http.ts [--rounds 3] [--seconds 2] [--connections 32]
 */
import { type ChildProcess, fork } from 'node:child_process';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import express from 'express';
import { rateLimit } from 'express-rate-limit';
import Fastify from 'fastify';
import { Redis } from 'ioredis';
import pg from 'pg';
import { tollgate as expressTollgate } from 'tollgate/express';
import { tollgate as fastifyTollgate } from 'tollgate/fastify';
import { PostgresIdempotencyStore } from 'tollgate/postgres';
import { RedisRateLimitStore, TieredIdempotencyStore } from 'tollgate/redis';
import { createDatabase, PrivatePostgres } from '../testkit/postgres.ts';
import { PrivateRedis } from '../testkit/redis.ts';
import { median, ratio } from './measure.ts';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '2' },
    connections: { type: 'string', default: '32' },
    serve: { type: 'string' },
    redis: { type: 'string' },
    database: { type: 'string' },
  },
});

const contenders = [
  'fastify',
  'fastify+tollgate(memory)',
  'fastify+tollgate(redis)',
  'fastify+@fastify/rate-limit(memory)',
  'fastify+@fastify/rate-limit(redis)',
  'fastify POST (bare)',
  'fastify POST idempotent replay (tiered)',
  'express',
  'express+tollgate(memory)',
  'express+express-rate-limit(memory)',
] as const;
type Contender = (typeof contenders)[number];

/** Never reached: the benchmark measures admission, not rejection. */
const huge = 1_000_000_000;
const perIp = [
  { name: 'per-ip', algorithm: 'fixed-window', limit: huge, windowSeconds: 60, subject: ['ip'] },
] as const;
const replayKey = 'bench-replay-key-0001';
const paymentBody = JSON.stringify({ amount: 1000, currency: 'EUR', customer: 'cus_1' });
const hello = { hello: 'world' };

/** The server of one contender, in this (child) process; answers its base URL. */
async function serve(name: Contender, redisUrl: string, databaseUrl: string): Promise<string> {
  const redis = () => new Redis(redisUrl);
  if (name.startsWith('express')) {
    const app = express();
    if (name === 'express+tollgate(memory)') app.use(expressTollgate({ policies: perIp })());
    if (name === 'express+express-rate-limit(memory)') {
      app.use(rateLimit({ windowMs: 60_000, limit: huge, standardHeaders: 'draft-8', legacyHeaders: true }));
    }
    app.get('/', (_req, res) => {
      res.json(hello);
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  }
  const app = Fastify();
  if (name === 'fastify+tollgate(memory)') await app.register(fastifyTollgate, { policies: perIp });
  if (name === 'fastify+tollgate(redis)') {
    await app.register(fastifyTollgate, {
      policies: perIp,
      rateLimitStore: new RedisRateLimitStore(redis()),
    });
  }
  if (name.startsWith('fastify+@fastify/rate-limit')) {
    const { default: rateLimitPlugin } = await import('@fastify/rate-limit');
    await app.register(rateLimitPlugin, {
      max: huge,
      timeWindow: 60_000,
      ...(name.endsWith('(redis)') && { redis: redis() }),
    });
  }
  if (name === 'fastify POST idempotent replay (tiered)') {
    const pool = new pg.Pool({ connectionString: databaseUrl, max: 8 });
    const truth = new PostgresIdempotencyStore({ pool });
    await truth.migrate();
    const idempotencyStore = new TieredIdempotencyStore({ truth, redis: redis() });
    await app.register(fastifyTollgate, { idempotencyStore });
  }
  const idempotent = name === 'fastify POST idempotent replay (tiered)';
  app.get('/', async () => hello);
  app.post(
    '/',
    { config: { tollgate: idempotent ? { idempotency: 'required' } : false } },
    async (_r, reply) => reply.code(201).send({ id: 'pay_1', status: 'succeeded' }),
  );
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  if (idempotent) {
    const response = await app.inject({
      method: 'POST',
      url: '/',
      headers: postHeaders,
      payload: paymentBody,
    });
    if (response.statusCode !== 201) throw new Error(`priming the replay failed: ${response.statusCode}`);
  }
  return url;
}

const postHeaders = { 'content-type': 'application/json', 'idempotency-key': replayKey };

function load(name: Contender, url: string, seconds: number): Promise<autocannon.Result> {
  const post = name.includes('POST');
  return autocannon({
    url: `${url}/`,
    connections: Number(values.connections),
    duration: seconds,
    ...(post && { method: 'POST', headers: postHeaders, body: paymentBody }),
  });
}

async function parent(): Promise<void> {
  const rounds = Number(values.rounds);
  const seconds = Number(values.seconds);
  const redisServer = await PrivateRedis.start();
  const postgresServer = await PrivatePostgres.start();
  const children: ChildProcess[] = [];
  try {
    const databaseUrl = await createDatabase(postgresServer.url, 'tollgate_bench_http');
    const urls = new Map<Contender, string>();
    for (const name of contenders) {
      const child = fork(
        new URL(import.meta.url).pathname,
        ['--serve', name, '--redis', redisServer.url, '--database', databaseUrl],
        {
          execArgv: ['--conditions=tollgate-source', '--import', 'tsx'],
        },
      );
      children.push(child);
      urls.set(
        name,
        await new Promise<string>((resolve) => child.once('message', (url) => resolve(url as string))),
      );
    }
    const results = new Map<Contender, number[]>(contenders.map((name) => [name, []]));
    for (let round = -1; round < rounds; round++) {
      for (const name of contenders) {
        const result = await load(name, urls.get(name)!, round < 0 ? 1 : seconds);
        if (result.non2xx > 0 || result.errors > 0) {
          throw new Error(`${name}: ${result.non2xx} non-2xx, ${result.errors} errors`);
        }
        if (round >= 0) results.get(name)!.push(result.requests.average);
      }
    }
    const rps = Object.fromEntries(contenders.map((name) => [name, Math.round(median(results.get(name)!))]));
    console.log(
      `\nrequests/s, median of ${rounds} rounds of ${seconds} s, ${values.connections} connections:`,
    );
    for (const name of contenders) console.log(`  ${name.padEnd(42)} ${String(rps[name]).padStart(8)}`);
    const of = (a: Contender, b: Contender) => ratio(rps[a]!, rps[b]!);
    const summary = {
      bench: 'http',
      rounds,
      seconds,
      connections: Number(values.connections),
      requestsPerSecond: rps,
      tollgateMemoryVsBare: { ratio: of('fastify+tollgate(memory)', 'fastify'), target: 0.9 },
      tollgateRedisVsFastifyRateLimitRedis: {
        ratio: of('fastify+tollgate(redis)', 'fastify+@fastify/rate-limit(redis)'),
        target: 1.25,
      },
      replayVsBarePost: {
        ratio: of('fastify POST idempotent replay (tiered)', 'fastify POST (bare)'),
        target: 0.7,
      },
      replayVsBareGet: of('fastify POST idempotent replay (tiered)', 'fastify'),
      fastifyRateLimitMemoryVsBare: of('fastify+@fastify/rate-limit(memory)', 'fastify'),
      fastifyRateLimitRedisVsBare: of('fastify+@fastify/rate-limit(redis)', 'fastify'),
      tollgateRedisVsBare: of('fastify+tollgate(redis)', 'fastify'),
      expressTollgateVsBare: of('express+tollgate(memory)', 'express'),
      expressRateLimitVsBare: of('express+express-rate-limit(memory)', 'express'),
    };
    console.log(`\n${JSON.stringify(summary)}`);
  } finally {
    for (const child of children) child.kill();
    await redisServer.dispose();
    await postgresServer.dispose();
  }
}

if (values.serve) {
  process.send!(await serve(values.serve as Contender, values.redis!, values.database!));
  process.on('disconnect', () => process.exit(0));
} else {
  await parent();
}
