/**
 * npm run bench:payments — the payments service against what it is built from, over loopback,
 * in one run (servers in child processes, rounds alternating contenders, medians of the rounds,
 * p50/p99 of the median round beside every rate):
 * - the service on PostgreSQL + Redis (private servers of this run) and on its embedded default
 *   (PGlite in a temp dir + memory limits), each: replays of one completed key, new payments
 *   (a fresh Idempotency-Key per request), GET of a payment;
 * - a bare Fastify POST answering a payment-sized JSON, and a bare `pg` loop running the same
 *   three-statement transaction as phase 1 (idempotency row, payment, audit row);
 * - the accept test on the embedded default: 200 connections opened at once while payments are
 *   being created (PGlite busy), each sending one replay: the worst wait for a first response
 *   (with the bench driver's own worst event-loop delay meanwhile, so a late read by the driver
 *   is not taken for the service's); the same with every connection replaying back to back once
 *   answered (a flood); and 200 opened at once each creating payments (worst first response =
 *   queueing behind PGlite).
 * Beside each rate, the CPU each process used per operation (the service, PostgreSQL, Redis, the
 * bare server, this driver with autocannon and the pg loop): all share the machine's cores, so a
 * ratio reads as a budget — where an operation's time goes, and whose it is.
 * Both services log at `warn` (pino at `info` writes a line per request) with limits raised so
 * they never refuse. Targets (issue 10): PostgreSQL + Redis replays ≥ 0.5× bare Fastify and new
 * payments ≥ 0.5× the bare transaction; embedded replays ≥ 5,000 req/s, embedded new payments
 * ≥ 400/s with p99 ≤ 250 ms, no first response later than 1 s. The last line is JSON.
 *
 *   node --conditions=tollgate-source --import tsx bench/payments.ts \
 *     [--rounds 3] [--seconds 3] [--connections 32] [--accept 200]
 */
import { type ChildProcess, fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import Fastify from 'fastify';
import pg from 'pg';
import { createDatabase, PrivatePostgres } from '../testkit/postgres.ts';
import { PrivateRedis } from '../testkit/redis.ts';
import { cpuPerOperation, withChildren } from './cpu.ts';
import { type Figures, median, medianFigures, printTable, ratio } from './measure.ts';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '3' },
    connections: { type: 'string', default: '32' },
    accept: { type: 'string', default: '200' },
    bare: { type: 'boolean', default: false },
  },
});
const rounds = Number(values.rounds);
const seconds = Number(values.seconds);
const connections = Number(values.connections);
const acceptConnections = Number(values.accept);
const body = JSON.stringify({
  amount: 99.99,
  currency: 'USD',
  payment_method: 'credit_card',
  description: 'bench',
});
const apiKey = 'bench-key';
const headers = { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` };

if (values.bare) {
  // The bare contender: Fastify parsing the same body and answering a payment-sized JSON.
  const app = Fastify();
  const answer = JSON.stringify({
    transaction_id: `txn_${randomUUID().replaceAll('-', '')}`,
    status: 'succeeded',
    amount: 99.99,
    currency: 'USD',
    payment_method: 'credit_card',
    description: 'bench',
    metadata: {},
    created_at: new Date().toISOString(),
  });
  app.post('/api/v1/payments', async (_request, reply) =>
    reply.code(201).type('application/json').send(answer),
  );
  await app.listen({ port: 0, host: '127.0.0.1' });
  process.send!({ port: (app.server.address() as { port: number }).port });
} else {
  await main();
}

/** A service under test: its URL, a completed key to replay and a payment to read. */
interface Target {
  readonly url: string;
  readonly replayKey: string;
  readonly paymentPath: string;
}

async function main() {
  const [postgres, redis] = await Promise.all([PrivatePostgres.start(), PrivateRedis.start()]);
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-payments-'));
  const children: ChildProcess[] = [];
  const spawn = async (args: string[], script: string, env: Record<string, string> = {}) => {
    const child = fork(script, args, {
      execArgv: ['--conditions=tollgate-source', '--import', 'tsx'],
      env: { ...process.env, ...env },
    });
    children.push(child);
    const { port } = await new Promise<{ port: number }>((resolve) =>
      child.once('message', resolve as never),
    );
    return { url: `http://127.0.0.1:${port}`, pid: child.pid! };
  };
  try {
    const databaseUrl = await createDatabase(postgres.url, 'bench_payments');
    const unlimited = '1000000000';
    const serviceEnv = {
      PORT: '0',
      LOG_LEVEL: 'warn',
      API_KEY: apiKey,
      RATE_LIMIT_GLOBAL: unlimited,
      RATE_LIMIT_USER: unlimited,
      RATE_LIMIT_PAYMENTS: unlimited,
      RATE_LIMIT_BURST_RATE: unlimited,
      RATE_LIMIT_BURST_CAPACITY: unlimited,
    };
    const main = new URL('../apps/payments/src/main.ts', import.meta.url).pathname;
    const served = await spawn([], main, { ...serviceEnv, DATABASE_URL: databaseUrl, REDIS_URL: redis.url });
    const embeddedService = await spawn([], main, { ...serviceEnv, DATA_DIR: dataDir });
    const bareFastify = await spawn(['--bare'], new URL(import.meta.url).pathname);
    const bare = bareFastify.url;
    const server = await prepare(served.url);
    const embedded = await prepare(embeddedService.url);
    // Whose CPU each operation costs: everything runs on the same cores, so a ratio is a share
    // of one budget (the embedded service's PGlite is a thread of its process).
    const processes: Record<string, () => readonly number[]> = {
      'service (postgres+redis)': () => [served.pid],
      'service (embedded)': () => [embeddedService.pid],
      'bare fastify': () => [bareFastify.pid],
      postgresql: () => withChildren(postgres.pid),
      redis: () => (redis.pid === undefined ? [] : [redis.pid]),
      'bench driver (autocannon, pg loop)': () => [process.pid],
    };

    // The bare transaction: the three writes of phase 1, on the same PostgreSQL.
    const pool = new pg.Pool({ connectionString: databaseUrl, max: connections });
    pool.on('error', () => undefined); // idle clients when the private server stops at the end
    const bareTransaction = async () => {
      const client = await pool.connect();
      try {
        const id = randomUUID();
        await client.query('BEGIN');
        await client.query(
          "INSERT INTO tollgate_idempotency (scope, state, fingerprint, fence, lease_until, expires_at, created_at) VALUES ($1, 'in-flight', 'f', 1, now(), now() + interval '1 day', now())",
          [`bench-${id}`],
        );
        await client.query(
          "INSERT INTO payments (transaction_id, principal, status, amount_minor, currency, currency_exponent, payment_method, downstream_key) VALUES ($1, 'bench', 'pending', 9999, 'USD', 2, 'credit_card', $2)",
          [`bench_${id}`, `bench:${id}`],
        );
        await client.query(
          "INSERT INTO audit_logs (principal, action, transaction_id) VALUES ('bench', 'payment.created', $1)",
          [`bench_${id}`],
        );
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    };

    const contenders: Record<string, () => Promise<Measured>> = {
      'postgres+redis: new payment': () => post(server.url, 'fresh', server),
      'pg: three-statement transaction': () => loop(bareTransaction),
      'embedded: new payment': () => post(embedded.url, 'fresh', embedded),
      'postgres+redis: replay': () => post(server.url, 'replay', server),
      'embedded: replay': () => post(embedded.url, 'replay', embedded),
      'fastify: bare POST': () => post(bare, 'none', server),
      'postgres+redis: GET payment': () => read(server),
      'embedded: GET payment': () => read(embedded),
    };
    const samples: Record<string, Measured[]> = Object.fromEntries(
      Object.keys(contenders).map((name) => [name, []]),
    );
    for (const run of Object.values(contenders)) await run(); // warm-up
    const acceptOnceMs: number[] = [];
    const acceptReplayMs: number[] = [];
    const acceptCreateMs: number[] = [];
    for (let r = 0; r < rounds; r++) {
      for (const [name, run] of Object.entries(contenders)) {
        const figures = await cpuPerOperation(processes, run);
        samples[name]!.push(figures);
        console.log(
          `round ${r + 1}: ${name.padEnd(34)} ${figures.opsPerSecond.toFixed(0).padStart(7)} req/s  p50 ${figures.p50Ms} ms  p99 ${figures.p99Ms} ms  CPU µs/op: ${cpuText(figures.cpuMicros)}`,
        );
      }
      const worst = await acceptTest(embedded, acceptConnections);
      acceptOnceMs.push(worst.onceMs);
      acceptReplayMs.push(worst.replayMs);
      acceptCreateMs.push(worst.createMs);
      console.log(
        `round ${r + 1}: ${acceptConnections} opened at once (embedded): worst first response ${worst.onceMs.toFixed(0)} ms with one request each, ${worst.replayMs.toFixed(0)} ms replaying back to back (bench driver's worst event-loop delay meanwhile ${worst.driverLagMs.toFixed(0)} ms), ${worst.createMs.toFixed(0)} ms creating`,
      );
    }
    await pool.end();
    const m = Object.fromEntries(Object.entries(samples).map(([name, rows]) => [name, medianFigures(rows)]));
    printTable(`payments, ${connections} connections, medians of ${rounds} rounds (taken under load)`, m);
    const cpu = Object.fromEntries(Object.entries(samples).map(([name, rows]) => [name, medianCpu(rows)]));
    console.log('\nCPU per operation, µs (medians of the rounds), by process');
    for (const [name, micros] of Object.entries(cpu)) console.log(`  ${name.padEnd(42)} ${cpuText(micros)}`);
    const f = (name: string) => m[name]!;
    const acceptWorst = Math.max(...acceptOnceMs);
    const figures = {
      bench: 'payments',
      rounds,
      seconds,
      connections,
      logLevel: 'warn',
      contenders: m,
      cpuMicrosPerOperation: cpu,
      postgres: {
        replayRatio: ratio(f('postgres+redis: replay').opsPerSecond, f('fastify: bare POST').opsPerSecond),
        replayTarget: 0.5,
        createRatio: ratio(
          f('postgres+redis: new payment').opsPerSecond,
          f('pg: three-statement transaction').opsPerSecond,
        ),
        createTarget: 0.5,
      },
      embedded: {
        replayPerSecond: f('embedded: replay').opsPerSecond,
        replayTarget: 5000,
        createPerSecond: f('embedded: new payment').opsPerSecond,
        createTarget: 400,
        createP99Ms: f('embedded: new payment').p99Ms,
        createP99TargetMs: 250,
        acceptConnections,
        acceptWorstFirstResponseMs: Math.round(acceptWorst),
        acceptTargetMs: 1000,
        acceptFloodingWorstFirstResponseMs: Math.round(Math.max(...acceptReplayMs)),
        acceptCreatingWorstFirstResponseMs: Math.round(Math.max(...acceptCreateMs)),
      },
    };
    const met = (ok: boolean) => (ok ? 'met' : 'MISSED');
    console.log(
      [
        `postgres+redis replay ${figures.postgres.replayRatio}× bare Fastify (≥ 0.5: ${met(figures.postgres.replayRatio >= 0.5)})`,
        `postgres+redis create ${figures.postgres.createRatio}× the bare transaction (≥ 0.5: ${met(figures.postgres.createRatio >= 0.5)})`,
        `embedded replay ${figures.embedded.replayPerSecond}/s (≥ 5000: ${met(figures.embedded.replayPerSecond >= 5000)})`,
        `embedded create ${figures.embedded.createPerSecond}/s p99 ${figures.embedded.createP99Ms} ms (≥ 400/s, ≤ 250 ms: ${met(figures.embedded.createPerSecond >= 400 && figures.embedded.createP99Ms <= 250)})`,
        `embedded accept worst ${figures.embedded.acceptWorstFirstResponseMs} ms, one request each (≤ 1000: ${met(acceptWorst <= 1000)}); ${figures.embedded.acceptFloodingWorstFirstResponseMs} ms when each replays back to back once answered`,
      ].join('\n'),
    );
    console.log(JSON.stringify(figures));
  } catch (error) {
    console.error(error);
    process.exitCode = 1;
  } finally {
    for (const child of children) child.kill('SIGKILL');
    await Promise.all([postgres.dispose(), redis.dispose()]);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Creates the payment every replay and read of `url` uses. */
async function prepare(url: string): Promise<Target> {
  const replayKey = `bench-replay-${randomUUID()}`;
  const first = await fetch(`${url}/api/v1/payments`, {
    method: 'POST',
    headers: { ...headers, 'idempotency-key': replayKey },
    body,
  });
  const text = await first.text();
  if (first.status !== 201) throw new Error(`${url} answered ${first.status}: ${text}`);
  const { transaction_id } = JSON.parse(text) as { transaction_id: string };
  return { url, replayKey, paymentPath: `/api/v1/payments/${transaction_id}` };
}

/** A round's figures, with how many operations it completed (to share CPU time out). */
type Measured = Figures & { operations: number; cpuMicros?: Record<string, number> };

/** Each process's median CPU per operation over `rows`. */
function medianCpu(rows: readonly Measured[]): Record<string, number> {
  const names = [...new Set(rows.flatMap((row) => Object.keys(row.cpuMicros ?? {})))];
  const medians = names.map((name) => [name, median(rows.map((row) => row.cpuMicros?.[name] ?? 0))] as const);
  // A process that used under 1 µs in most rounds is not part of this operation's budget.
  return Object.fromEntries(medians.filter(([, micros]) => micros >= 1));
}

function cpuText(micros: Record<string, number> | undefined): string {
  if (micros === undefined) return 'n/a (no /proc)';
  const total = Object.values(micros).reduce((sum, value) => sum + value, 0);
  return `${Object.entries(micros)
    .map(([name, value]) => `${name} ${value}`)
    .join(' · ')} (all ${total})`;
}

function figuresOf(result: autocannon.Result, label: string): Measured {
  if (result.non2xx > 0 || result.errors > 0 || result.timeouts > 0)
    console.error(
      `  ${label}: ${result.non2xx} non-2xx, ${result.errors} errors, ${result.timeouts} timeouts`,
    );
  return {
    opsPerSecond: result['2xx'] / result.duration,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    operations: result['2xx'],
  };
}

async function post(url: string, keyed: 'fresh' | 'replay' | 'none', target: Target): Promise<Measured> {
  const result = await autocannon({
    url: `${url}/api/v1/payments`,
    method: 'POST',
    connections,
    duration: seconds,
    headers: keyed === 'replay' ? { ...headers, 'idempotency-key': target.replayKey } : headers,
    body,
    ...(keyed === 'fresh' && {
      requests: [
        {
          setupRequest: (request: autocannon.Request) => ({
            ...request,
            headers: { ...request.headers, 'idempotency-key': `bench-${randomUUID()}` },
          }),
        },
      ],
    }),
  });
  return figuresOf(result, `${url} ${keyed}`);
}

async function read(target: Target): Promise<Measured> {
  const result = await autocannon({
    url: `${target.url}${target.paymentPath}`,
    connections,
    duration: seconds,
    headers: { authorization: `Bearer ${apiKey}` },
  });
  return figuresOf(result, `${target.url} GET`);
}

/** `connections` callers running `op` back to back for the round's seconds, each call timed. */
async function loop(op: () => Promise<void>): Promise<Measured> {
  const latencies: number[] = [];
  const started = performance.now();
  const until = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < until) {
        const at = performance.now();
        await op();
        latencies.push(performance.now() - at);
      }
    }),
  );
  const elapsedSeconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (p: number) =>
    Number(latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!.toFixed(2));
  return {
    opsPerSecond: latencies.length / elapsedSeconds,
    p50Ms: at(0.5),
    p99Ms: at(0.99),
    operations: latencies.length,
  };
}

/**
 * `count` connections opened at once, each its own socket, `path` with `keyOf()` as its key (sent
 * again back to back for the round's seconds when `backToBack`): the worst wait, from opening,
 * for a first response.
 */
async function openAtOnce(
  url: string,
  count: number,
  keyOf: () => string,
  backToBack: boolean,
): Promise<number> {
  const { hostname, port } = new URL(url);
  const until = performance.now() + seconds * 1000;
  const send = (agent: http.Agent) =>
    new Promise<void>((resolve, reject) => {
      const request = http.request(
        {
          host: hostname,
          port,
          path: '/api/v1/payments',
          method: 'POST',
          agent,
          headers: { ...headers, 'idempotency-key': keyOf() },
        },
        (response) => {
          response.resume();
          response.on('end', () => resolve());
          response.on('error', reject);
        },
      );
      request.on('error', reject);
      request.end(body);
    });
  const waits = await Promise.all(
    Array.from({ length: count }, async () => {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      try {
        const opened = performance.now();
        await send(agent);
        const firstMs = performance.now() - opened;
        while (backToBack && performance.now() < until) await send(agent);
        return firstMs;
      } finally {
        agent.destroy();
      }
    }),
  );
  return Math.max(...waits);
}

/**
 * The accept test on the embedded default: while `connections` callers create payments (PGlite
 * busy), `count` connections open at once, each sending one replay of a completed key — the
 * worst wait for a first response says whether the event loop keeps accepting while PGlite
 * works (target ≤ 1 s). Then the same with every connection replaying back to back once
 * answered: a flood in which Node 20's libuv accepts one connection per loop iteration, so the
 * last ones wait longer (reported beside it). Then `count` connections open at once each
 * creating payments: their worst first response is queueing behind PGlite (count ÷ its
 * payments per second).
 */
async function acceptTest(
  target: Target,
  count: number,
): Promise<{ onceMs: number; replayMs: number; createMs: number; driverLagMs: number }> {
  const load = post(target.url, 'fresh', target);
  await new Promise((resolve) => setTimeout(resolve, 500));
  // The bench driver's own event-loop delay meanwhile: a first response it read late is its
  // wait, not the service's.
  const lag = monitorEventLoopDelay({ resolution: 10 });
  lag.enable();
  const onceMs = await openAtOnce(target.url, count, () => target.replayKey, false);
  const replayMs = await openAtOnce(target.url, count, () => target.replayKey, true);
  lag.disable();
  await load;
  const createMs = await openAtOnce(target.url, count, () => `bench-${randomUUID()}`, true);
  return { onceMs, replayMs, createMs, driverLagMs: lag.max / 1e6 };
}
