/**
 * Retry clients through one simulated outage: the same workload sent by (a) a naive loop that
 * retries 3 times with a fixed delay, (b) p-retry with its defaults, (c) tollgate's client.
 *
 * Server timeline (per run, loopback only): healthy, then an outage in which 70 % of requests
 * get `503 Retry-After: 1` without any work and 30 % create the payment and then lose the
 * connection (a crash mid-response), then healthy again. The server deduplicates only requests
 * that carry an `Idempotency-Key`, like the payments API; the naive loop and p-retry send
 * none, so for them it is a server without idempotency. A fourth run sends tollgate against a
 * server that ignores keys, to show where zero duplicates comes from.
 *
 * Figures: requests sent per logical operation, duplicates (payments created more than once),
 * operations that failed, time to recovery (how long after the outage newly started operations
 * kept failing) and drain (how long after the outage the operations it hit took to settle).
 * The last line is one JSON object with every figure.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import pRetry from 'p-retry';
import { createRetryClient, RetryError, seededRandom } from 'tollgate/client';

const OPERATIONS = 150;
const SPACING_MS = 10; // one logical operation every 10 ms: 1.5 s of traffic
const OUTAGE = { start: 200, end: 1_000 }; // ms after the first operation
const DROP_SHARE = 0.3;

interface Op {
  start: number;
  end: number;
  ok: boolean;
}

interface Figures {
  requestsPerOperation: number;
  duplicates: number;
  failed: number;
  recoveryMs: number;
  drainMs: number;
}

type Send = (url: string, body: string) => Promise<boolean>;

async function run(send: Send, honourKeys: boolean): Promise<Figures> {
  const random = seededRandom(99);
  const created = new Map<string, number>(); // order → payments created for it
  const byKey = new Map<string, string>();
  let requests = 0;
  let t0 = 0;
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => {
      body += chunk;
    });
    req.on('end', () => {
      requests += 1;
      const key = req.headers['idempotency-key'];
      const replay = honourKeys && typeof key === 'string' ? byKey.get(key) : undefined;
      if (replay) {
        res.writeHead(201, { 'content-type': 'application/json', 'idempotent-replayed': 'true' });
        res.end(replay);
        return;
      }
      const now = performance.now() - t0;
      const down = now >= OUTAGE.start && now < OUTAGE.end;
      if (down && random() >= DROP_SHARE) {
        res.writeHead(503, { 'retry-after': '1' });
        res.end();
        return;
      }
      const order = (JSON.parse(body) as { order: string }).order;
      created.set(order, (created.get(order) ?? 0) + 1);
      const payment = JSON.stringify({ transaction_id: `txn_${order}_${created.get(order)}` });
      if (typeof key === 'string') byKey.set(key, payment);
      if (down) {
        req.socket.destroy(); // the payment exists, the client never hears of it
        return;
      }
      res.writeHead(201, { 'content-type': 'application/json' });
      res.end(payment);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/payments`;

  t0 = performance.now();
  const ops: Promise<Op>[] = [];
  for (let n = 0; n < OPERATIONS; n++) {
    const start = performance.now() - t0;
    const body = JSON.stringify({ order: `ord_${n}`, amount: 10, currency: 'USD', payment_method: 'card' });
    ops.push(send(url, body).then((ok) => ({ start, end: performance.now() - t0, ok })));
    await sleep(SPACING_MS);
  }
  const settled = await Promise.all(ops);
  server.closeAllConnections();
  server.close();

  const failedOps = settled.filter((op) => !op.ok);
  const lastFailedStart = Math.max(OUTAGE.end, ...failedOps.map((op) => op.start));
  const hit = settled.filter((op) => op.start < OUTAGE.end && op.end > OUTAGE.start);
  return {
    requestsPerOperation: round(requests / OPERATIONS),
    duplicates: [...created.values()].reduce((sum, count) => sum + count - 1, 0),
    failed: failedOps.length,
    recoveryMs: Math.round(lastFailedStart - OUTAGE.end),
    drainMs: Math.round(Math.max(0, ...hit.map((op) => op.end - OUTAGE.end))),
  };
}

const headers = { 'content-type': 'application/json' };

/** (a) What many codebases have: retry anything 3 times, 100 ms apart. */
const naive: Send = async (url, body) => {
  for (let attempt = 0; attempt <= 3; attempt++) {
    try {
      const response = await fetch(url, { method: 'POST', headers, body });
      await response.arrayBuffer();
      if (response.ok) return true;
    } catch {
      // a lost connection: try again
    }
    if (attempt < 3) await sleep(100);
  }
  return false;
};

/** (b) p-retry with its defaults (10 retries, 1 s doubling), failing on any non-2xx. */
const withPRetry: Send = (url, body) =>
  pRetry(async () => {
    const response = await fetch(url, { method: 'POST', headers, body });
    await response.arrayBuffer();
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    return true;
  }).catch(() => false);

/** (c) tollgate: defaults, a seeded jitter, and a breaker that probes after 250 ms (default 5 s). */
const withTollgate = (gaveUp: Record<string, number>): Send => {
  const client = createRetryClient({ random: seededRandom(1), breaker: { halfOpenAfterMs: 250 } });
  return async (url, body) => {
    try {
      const response = await client.fetch(url, { method: 'POST', headers, body });
      await response.arrayBuffer();
      return response.ok;
    } catch (error) {
      const code = error instanceof RetryError ? error.code : 'OTHER';
      gaveUp[code] = (gaveUp[code] ?? 0) + 1;
      return false;
    }
  };
};

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

const tollgateGaveUp: Record<string, number> = {};
const results = {
  naive: await run(naive, true),
  pRetry: await run(withPRetry, true),
  tollgate: await run(withTollgate(tollgateGaveUp), true),
  tollgateAgainstServerIgnoringKeys: await run(withTollgate({}), false),
};

console.log(
  `${OPERATIONS} payments, one every ${SPACING_MS} ms; outage ${OUTAGE.start}–${OUTAGE.end} ms ` +
    `(${100 - DROP_SHARE * 100} % 503 Retry-After: 1, ${DROP_SHARE * 100} % created then connection lost)\n`,
);
console.table(results);
console.log(
  [
    'recoveryMs: how long after the outage newly started operations still failed; drainMs: how long',
    'after the outage the operations it hit took to settle.',
    `tollgate gave up on: ${JSON.stringify(tollgateGaveUp)}. Those operations failed fast: nothing was`,
    'sent, and the error carries the idempotency key, so they can be resumed later without a duplicate.',
    'Against a server that ignores keys, tollgate created no duplicate here only because the open breaker',
    'and the budget stopped its retries during the outage; a retry after a lost connection can duplicate',
    'there: keys need the server side of idempotency.',
  ].join('\n'),
);
console.log(
  JSON.stringify({ operations: OPERATIONS, outageMs: OUTAGE.end - OUTAGE.start, ...results, tollgateGaveUp }),
);
