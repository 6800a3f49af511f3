/**
 * npm run bench:http — trivial routes behind each contender, loaded by autocannon over loopback:
 * the rate limiters on `GET /`, and the idempotency layers (tollgate on Fastify and Express,
 * `@node-idempotency/core` on Fastify, `express-idempotency` on Express) replaying one completed
 * key or claiming a new key per request, beside the bare routes. Every server runs in a child
 * process of its own (so the load generator and the server do not share an event loop); rounds
 * alternate contenders (A, B, C, A, B, C…) after a warm-up so drift on a shared machine hits all
 * alike; figures are medians of the rounds' requests per second, with the p50/p99 latency of the
 * median round. Then the race rows: keys × concurrent identical requests per implementation,
 * counting the effects that really ran. Redis and PostgreSQL are private servers of this run.
 * A contender that fails (a server that does not start, a non-2xx answer) is reported broken and
 * the others go on. The last line is one JSON object.
 *
 *   tsx bench/http.ts [--rounds 3] [--seconds 2] [--connections 32]
 *                     [--race-keys 200] [--race-concurrency 16] [--only replay,race]
 *
 * Each flag also reads an environment variable (BENCH_HTTP_ROUNDS, BENCH_HTTP_SECONDS,
 * BENCH_HTTP_CONNECTIONS, BENCH_HTTP_RACE_KEYS, BENCH_HTTP_RACE_CONCURRENCY, BENCH_HTTP_ONLY).
 * `--only` keeps the contenders and racers whose names contain one of its comma-separated parts.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { createDatabase, PrivatePostgres } from '../testkit/postgres.ts';
import { PrivateRedis } from '../testkit/redis.ts';
import {
  type Contender,
  contenders,
  type ExpressServer,
  type FastifyServer,
  racers,
  type Server,
  tieredServers,
} from './http/contenders.ts';
import { expressServer } from './http/express-server.ts';
import { fastifyServer } from './http/fastify-server.ts';
import { handled, load, primeReplay } from './http/load.ts';
import { type RaceResult, race } from './http/race.ts';
import type { BenchStores } from './http/stores.ts';
import { type Figures, medianFigures, ratio } from './measure.ts';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string' },
    seconds: { type: 'string' },
    connections: { type: 'string' },
    'race-keys': { type: 'string' },
    'race-concurrency': { type: 'string' },
    only: { type: 'string' },
    serve: { type: 'string' },
    redis: { type: 'string' },
    database: { type: 'string' },
  },
});

const setting = (flag: keyof typeof values, variable: string, fallback: string): string =>
  (values[flag] as string | undefined) ?? process.env[variable] ?? fallback;
const rounds = Number(setting('rounds', 'BENCH_HTTP_ROUNDS', '3'));
const seconds = Number(setting('seconds', 'BENCH_HTTP_SECONDS', '2'));
const connections = Number(setting('connections', 'BENCH_HTTP_CONNECTIONS', '32'));
const raceKeys = Number(setting('race-keys', 'BENCH_HTTP_RACE_KEYS', '200'));
const raceConcurrency = Number(setting('race-concurrency', 'BENCH_HTTP_RACE_CONCURRENCY', '16'));
const only = setting('only', 'BENCH_HTTP_ONLY', '')
  .split(',')
  .map((part) => part.trim())
  .filter(Boolean);
const chosen = (name: string) => only.length === 0 || only.some((part) => name.includes(part));

/** How long a child may take to start its server, in ms. */
const startTimeoutMs = 60_000;

/** The server of one child process; answers its base URL. */
function serve(name: Server, stores: BenchStores): Promise<string> {
  return name.startsWith('express')
    ? expressServer(name as ExpressServer, stores)
    : fastifyServer(name as FastifyServer, stores);
}

type Started = { url: string } | { error: string };

function start(
  name: Server,
  redisUrl: string,
  databaseUrl: string,
  children: ChildProcess[],
): Promise<Started> {
  const child = fork(
    new URL(import.meta.url).pathname,
    ['--serve', name, '--redis', redisUrl, '--database', databaseUrl],
    { execArgv: ['--conditions=tollgate-source', '--import', 'tsx'] },
  );
  children.push(child);
  return new Promise<Started>((resolve) => {
    const timer = setTimeout(() => resolve({ error: 'did not start in time' }), startTimeoutMs);
    child.once('message', (message) => {
      clearTimeout(timer);
      resolve(message as Started);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ error: `exited with ${code} before listening` });
    });
  });
}

/** One measured round of a contender; a reason when it must be dropped. */
async function measure(
  contender: Contender,
  url: string,
  durationSeconds: number,
): Promise<Figures | { broken: string }> {
  const counted = contender.workload === 'replay' || contender.workload === 'new-key';
  const before = counted ? await handled(url) : 0;
  const result = await load(url, contender.workload, { seconds: durationSeconds, connections });
  if (result.non2xx > 0 || result.errors > 0) {
    return { broken: `${result.non2xx} non-2xx answers, ${result.errors} errors` };
  }
  const runs = counted ? (await handled(url)) - before : 0;
  if (contender.workload === 'replay' && runs > 0)
    return { broken: `the replay ran the handler ${runs} times` };
  if (contender.workload === 'new-key' && runs < result['2xx']) {
    return { broken: `${result['2xx']} answers from ${runs} handler runs` };
  }
  return { opsPerSecond: result.requests.average, p50Ms: result.latency.p50, p99Ms: result.latency.p99 };
}

async function parent(): Promise<void> {
  const redisServer = await PrivateRedis.start();
  const postgresServer = await PrivatePostgres.start();
  const redis = new Redis(redisServer.url);
  const children: ChildProcess[] = [];
  const broken: Record<string, string> = {};
  try {
    const measured = contenders.filter((c) => chosen(c.name));
    const raced = raceKeys > 0 ? racers.filter((r) => chosen(r.name) || chosen('race')) : [];
    const servers = [...new Set([...measured.map((c) => c.server), ...raced.map((r) => r.server)])];
    const urls = new Map<Server, string>();
    for (const [index, server] of servers.entries()) {
      const databaseUrl = tieredServers.includes(server)
        ? await createDatabase(postgresServer.url, `tollgate_bench_http_${index}`)
        : '';
      const started = await start(server, redisServer.url, databaseUrl, children);
      if ('url' in started) urls.set(server, started.url);
      else broken[server] = started.error;
    }
    const live = measured.filter((c) => urls.has(c.server));
    for (const contender of live.filter((c) => c.workload === 'replay')) {
      await primeReplay(urls.get(contender.server)!).catch((error: Error) => {
        broken[contender.name] = error.message;
      });
    }

    const results = new Map<string, Figures[]>(live.map((c) => [c.name, []]));
    for (let round = -1; round < rounds; round++) {
      for (const contender of live) {
        if (broken[contender.name]) continue;
        const figures = await measure(contender, urls.get(contender.server)!, round < 0 ? 1 : seconds).catch(
          (error: Error) => ({ broken: error.message }),
        );
        if ('broken' in figures) broken[contender.name] = figures.broken;
        else if (round >= 0) results.get(contender.name)!.push(figures);
      }
    }
    const figures: Record<string, Figures> = {};
    for (const [name, rounds] of results) if (!broken[name]) figures[name] = medianFigures(rounds);

    const raceResults: Record<string, RaceResult> = {};
    for (const [index, racer] of raced.entries()) {
      const url = urls.get(racer.server);
      if (!url) continue;
      const result = await race(url, redis, `r${index}`, { keys: raceKeys, concurrency: raceConcurrency });
      const failed = result.statuses.error ?? 0;
      if (failed > 0) broken[`race ${racer.name}`] = `${failed} requests failed in transport`;
      raceResults[racer.name] = result;
    }

    print(figures, raceResults, broken);
    console.log(`\n${JSON.stringify(summary(figures, raceResults, broken))}`);
  } finally {
    for (const child of children) child.kill();
    redis.disconnect();
    await redisServer.dispose();
    await postgresServer.dispose();
  }
}

function print(
  figures: Record<string, Figures>,
  raceResults: Record<string, RaceResult>,
  broken: Record<string, string>,
): void {
  if (Object.keys(figures).length > 0) {
    console.log(
      `\nrequests/s, median of ${rounds} alternating rounds of ${seconds} s, ${connections} connections (p50/p99 of the median round):`,
    );
    for (const [name, f] of Object.entries(figures)) {
      console.log(
        `  ${name.padEnd(42)} ${String(f.opsPerSecond).padStart(8)} req/s   p50 ${String(f.p50Ms).padStart(4)} ms   p99 ${String(f.p99Ms).padStart(4)} ms`,
      );
    }
  }
  if (Object.keys(raceResults).length > 0) {
    console.log(`\nrace: ${raceKeys} keys × ${raceConcurrency} concurrent identical requests over HTTP`);
    for (const [name, r] of Object.entries(raceResults)) {
      const statuses = Object.entries(r.statuses)
        .map(([status, count]) => `${status}×${count}`)
        .join(' ');
      console.log(
        `  ${name.padEnd(42)} exactly once ${String(r.exactlyOnce).padStart(4)}/${r.keys}   extra effects ${String(r.extraEffects).padStart(5)}   divergent answers ${String(r.divergentAnswers).padStart(4)}   ${statuses}`,
      );
    }
  }
  for (const [name, reason] of Object.entries(broken)) console.log(`  BROKEN ${name}: ${reason}`);
}

/** The targets of issue 9, next to the ratios they judge. */
const targets = {
  fastify_replay_vs_node_idempotency: 1.2,
  fastify_replay_vs_bare: 0.6,
  fastify_new_vs_node_idempotency: 1.0,
  express_replay_vs_bare: 0.85,
};

function summary(
  figures: Record<string, Figures>,
  raceResults: Record<string, RaceResult>,
  broken: Record<string, string>,
) {
  const rps = Object.fromEntries(
    Object.entries(figures).map(([name, f]) => [name, Math.round(f.opsPerSecond)]),
  );
  const of = (a: string, b: string) => (rps[a] && rps[b] ? ratio(rps[a], rps[b]) : null);
  return {
    bench: 'http',
    rounds,
    seconds,
    connections,
    requestsPerSecond: rps,
    latencyMs: Object.fromEntries(
      Object.entries(figures).map(([name, f]) => [name, { p50: f.p50Ms, p99: f.p99Ms }]),
    ),
    fastify_replay_vs_node_idempotency: of(
      'fastify+tollgate(tiered) replay',
      'fastify+@node-idempotency replay',
    ),
    fastify_replay_vs_bare: of('fastify+tollgate(tiered) replay', 'fastify POST (bare)'),
    fastify_new_vs_node_idempotency: of(
      'fastify+tollgate(tiered) new key',
      'fastify+@node-idempotency new key',
    ),
    express_replay_vs_bare: of('express+tollgate(tiered) replay', 'express POST (bare)'),
    express_replay_vs_express_idempotency: of(
      'express+tollgate(tiered) replay',
      'express+express-idempotency replay',
    ),
    redisIdempotencyStore: {
      fastify_replay_vs_node_idempotency: of(
        'fastify+tollgate(redis idem) replay',
        'fastify+@node-idempotency replay',
      ),
      fastify_replay_vs_bare: of('fastify+tollgate(redis idem) replay', 'fastify POST (bare)'),
      fastify_new_vs_node_idempotency: of(
        'fastify+tollgate(redis idem) new key',
        'fastify+@node-idempotency new key',
      ),
      express_replay_vs_bare: of('express+tollgate(redis idem) replay', 'express POST (bare)'),
      express_replay_vs_express_idempotency: of(
        'express+tollgate(redis idem) replay',
        'express+express-idempotency replay',
      ),
    },
    targets,
    tollgateMemoryVsBare: { ratio: of('fastify+tollgate(memory)', 'fastify'), target: 0.9 },
    tollgateRedisVsFastifyRateLimitRedis: {
      ratio: of('fastify+tollgate(redis)', 'fastify+@fastify/rate-limit(redis)'),
      target: 1.25,
    },
    fastifyRateLimitMemoryVsBare: of('fastify+@fastify/rate-limit(memory)', 'fastify'),
    fastifyRateLimitRedisVsBare: of('fastify+@fastify/rate-limit(redis)', 'fastify'),
    tollgateRedisVsBare: of('fastify+tollgate(redis)', 'fastify'),
    expressTollgateVsBare: of('express+tollgate(memory)', 'express'),
    expressRateLimitVsBare: of('express+express-rate-limit(memory)', 'express'),
    race: { keys: raceKeys, requestsPerKey: raceConcurrency, results: raceResults },
    broken,
  };
}

if (values.serve) {
  try {
    const url = await serve(values.serve as Server, {
      redisUrl: values.redis!,
      databaseUrl: values.database!,
    });
    process.send!({ url } satisfies Started);
  } catch (error) {
    process.send!({ error: String((error as Error).stack ?? error) } satisfies Started);
  }
  process.on('disconnect', () => process.exit(0));
} else {
  await parent();
}
