/**
 * npm run bench:payments — the payments service against what it is built from, on one private
 * PostgreSQL and Redis of this run, over loopback:
 * - new-key payment creation (req/s, autocannon, a fresh Idempotency-Key per request) against
 *   a bare `pg` loop running the same three-statement transaction (idempotency row, payment,
 *   audit row) at the same concurrency;
 * - replays of one completed key against a bare Fastify POST answering the same JSON.
 * Servers run in child processes; rounds alternate contenders; figures are medians. Targets:
 * creation ≥ 0.4× the bare transaction, replay ≥ 0.7× bare Fastify. The last line is JSON.
 *
 *   tsx bench/payments.ts [--rounds 3] [--seconds 3] [--connections 16]
 */
import { type ChildProcess, fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import Fastify from 'fastify';
import pg from 'pg';
import { createDatabase, PrivatePostgres } from '../testkit/postgres.ts';
import { PrivateRedis } from '../testkit/redis.ts';
import { median, ratio } from './measure.ts';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '3' },
    connections: { type: 'string', default: '16' },
    bare: { type: 'boolean', default: false },
  },
});
const rounds = Number(values.rounds);
const seconds = Number(values.seconds);
const connections = Number(values.connections);
const body = JSON.stringify({
  amount: 99.99,
  currency: 'USD',
  payment_method: 'credit_card',
  description: 'bench',
});

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

async function main() {
  const [postgres, redis] = await Promise.all([PrivatePostgres.start(), PrivateRedis.start()]);
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
    return `http://127.0.0.1:${port}`;
  };
  try {
    const databaseUrl = await createDatabase(postgres.url, 'bench_payments');
    const unlimited = '1000000000';
    const service = await spawn([], new URL('../apps/payments/src/main.ts', import.meta.url).pathname, {
      DATABASE_URL: databaseUrl,
      REDIS_URL: redis.url,
      PORT: '0',
      LOG_LEVEL: 'warn',
      API_KEY: 'bench-key',
      RATE_LIMIT_GLOBAL: unlimited,
      RATE_LIMIT_USER: unlimited,
      RATE_LIMIT_PAYMENTS: unlimited,
      RATE_LIMIT_BURST_RATE: unlimited,
      RATE_LIMIT_BURST_CAPACITY: unlimited,
    });
    const bare = await spawn(['--bare'], new URL(import.meta.url).pathname);
    const headers = { 'content-type': 'application/json', authorization: 'Bearer bench-key' };
    const replayKey = `bench-replay-${randomUUID()}`;
    const first = await fetch(`${service}/api/v1/payments`, {
      method: 'POST',
      headers: { ...headers, 'idempotency-key': replayKey },
      body,
    });
    if (first.status !== 201) throw new Error(`the service answered ${first.status}: ${await first.text()}`);

    // The bare transaction: the three writes of phase 1, on the same PostgreSQL.
    const pool = new pg.Pool({ connectionString: databaseUrl, max: connections });
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
          "INSERT INTO payments (transaction_id, principal, status, amount_minor, currency, payment_method, downstream_key) VALUES ($1, 'bench', 'pending', 9999, 'USD', 'credit_card', $2)",
          [`bench_${id}`, `bench:${id}`],
        );
        await client.query(
          "INSERT INTO audit_logs (principal, action, transaction_id) VALUES ('bench', 'payment.created', $1)",
          [`bench_${id}`],
        );
        await client.query('COMMIT');
      } finally {
        client.release();
      }
    };

    const load = async (url: string, keyed: 'fresh' | 'replay' | 'none') => {
      const result = await autocannon({
        url: `${url}/api/v1/payments`,
        method: 'POST',
        connections,
        duration: seconds,
        headers: keyed === 'replay' ? { ...headers, 'idempotency-key': replayKey } : headers,
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
      const ok = result['2xx'];
      if (result.non2xx > 0 || result.errors > 0)
        console.error(`  ${keyed}: ${result.non2xx} non-2xx, ${result.errors} errors`);
      return ok / seconds;
    };
    const loop = async () => {
      const until = performance.now() + seconds * 1000;
      let done = 0;
      await Promise.all(
        Array.from({ length: connections }, async () => {
          while (performance.now() < until) {
            await bareTransaction();
            done++;
          }
        }),
      );
      return done / seconds;
    };

    const contenders: Record<string, () => Promise<number>> = {
      'payments: create (new key)': () => load(service, 'fresh'),
      'pg: three-statement transaction': loop,
      'payments: replay': () => load(service, 'replay'),
      'fastify: bare POST': () => load(bare, 'none'),
    };
    const samples: Record<string, number[]> = Object.fromEntries(
      Object.keys(contenders).map((name) => [name, []]),
    );
    for (const run of Object.values(contenders)) await run(); // warm-up
    for (let r = 0; r < rounds; r++) {
      for (const [name, run] of Object.entries(contenders)) {
        const rate = await run();
        samples[name]!.push(rate);
        console.log(`round ${r + 1}: ${name.padEnd(34)} ${rate.toFixed(0)} req/s`);
      }
    }
    await pool.end();
    const m = Object.fromEntries(Object.entries(samples).map(([name, values]) => [name, median(values)]));
    const create = m['payments: create (new key)']!;
    const transaction = m['pg: three-statement transaction']!;
    const replay = m['payments: replay']!;
    const fastify = m['fastify: bare POST']!;
    const figures = {
      bench: 'payments',
      rounds,
      seconds,
      connections,
      createPerSecond: Math.round(create),
      bareTransactionPerSecond: Math.round(transaction),
      createRatio: ratio(create, transaction),
      createTarget: 0.4,
      replayPerSecond: Math.round(replay),
      bareFastifyPerSecond: Math.round(fastify),
      replayRatio: ratio(replay, fastify),
      replayTarget: 0.7,
    };
    console.log(
      `creation ${figures.createRatio}× the bare transaction (target ≥ 0.4); replay ${figures.replayRatio}× bare Fastify (target ≥ 0.7)`,
    );
    console.log(JSON.stringify(figures));
  } finally {
    for (const child of children) child.kill('SIGKILL');
    await Promise.all([postgres.dispose(), redis.dispose()]);
  }
}
