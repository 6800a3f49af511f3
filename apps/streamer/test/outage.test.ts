/**
 * The streamer's database unreachable, then back: every route that needs it answers 503 +
 * `Retry-After` problem+json (a user's read and vote, a worker's batch, Telegram's webhook,
 * which Telegram then redelivers), `/health` names the component without its error text, and
 * the service recovers by itself with nothing moved twice. A statement stalled on a lock ends
 * with 503 after the lock timeout. Expired idempotency records are swept.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CuttableProxy } from '../../../testkit/cuttable-proxy.ts';
import { freshDatabase } from '../../../testkit/index.ts';
import {
  fund,
  newKey,
  newStreamer,
  paymentUpdate,
  type Reply,
  type RunningService,
  startService,
  telegram,
  user,
  worker,
} from './service.ts';

describe('the streamer with its database unreachable', () => {
  let service: RunningService;
  let proxy: CuttableProxy;
  let direct: string;
  let streamer: string;

  beforeAll(async () => {
    direct = await freshDatabase();
    const url = new URL(direct);
    proxy = await CuttableProxy.start({ host: url.hostname, port: Number(url.port) });
    url.host = `127.0.0.1:${proxy.port}`;
    service = await startService({
      DATABASE_URL: url.toString(),
      DATABASE_CONNECT_TIMEOUT_MS: '500',
      DATABASE_LOCK_TIMEOUT_MS: '300',
      DATABASE_STATEMENT_TIMEOUT_MS: '2000',
      IDEMPOTENCY_SWEEP_INTERVAL_MS: '200',
    });
    await fund(service.url, 'u1', 10);
    streamer = await newStreamer(service.url, 'u1');
  });
  afterAll(async () => {
    await proxy?.up().catch(() => undefined);
    await service?.close();
    await proxy?.down();
  });

  const unavailable = (answer: Reply, what: string) => {
    expect(answer.status, `${what}: ${answer.text}`).toBe(503);
    expect(Number(answer.headers.get('retry-after')), what).toBeGreaterThanOrEqual(1);
    expect(answer.headers.get('content-type'), what).toMatch(/^application\/problem\+json/);
    expect(answer.json.status, what).toBe(503);
    expect(answer.text, what).not.toMatch(/ECONNREFUSED|terminated|timeout exceeded|127\.0\.0\.1/i);
  };

  it('answers 503 + Retry-After everywhere it is needed, and recovers by itself: the vote retried moves stars once', {
    timeout: 60_000,
  }, async () => {
    const u1 = user(service.url, 'u1');
    const invoice = await u1.invoice(3, newKey());
    expect(invoice.status).toBe(201);
    const voteKey = newKey();

    await proxy.down();
    unavailable(await u1.wallet(), 'GET /api/wallet');
    unavailable(await u1.streamer(streamer), 'GET /api/streamers/:id');
    unavailable(await u1.vote({ streamer_id: streamer, stars: 4 }, voteKey), 'POST /api/votes');
    unavailable(
      await worker(service.url).events([
        {
          streamer_id: streamer,
          external_id: 'e1',
          type: 'follow',
          occurred_at: '2026-01-02T03:04:05Z',
          data: {},
        },
      ]),
      'POST /internal/worker/events',
    );
    unavailable(
      await telegram(service.url, paymentUpdate(invoice.json.payload, 3, 90)),
      'POST /integrations/telegram/payments',
    );
    const health = await fetch(`${service.url}/health`);
    expect(health.status).toBe(503);
    const body = (await health.json()) as { services: { database: unknown } };
    expect(body.services.database).toEqual({ status: 'down', kind: 'postgres' });
    expect((await fetch(`${service.url}/health/ready`)).status).toBe(503);
    expect((await fetch(`${service.url}/health/live`)).status).toBe(200);

    await proxy.up();
    let recovered: Reply | undefined;
    for (let attempt = 0; attempt < 100; attempt++) {
      recovered = await u1.wallet();
      if (recovered.status === 200) break;
      await sleep(100);
    }
    expect(recovered?.status).toBe(200);
    expect(recovered?.json.balance).toBe(10);
    // The vote's key was released with its 503: the retry votes, once.
    const vote = await u1.vote({ streamer_id: streamer, stars: 4 }, voteKey);
    expect(vote.status, vote.text).toBe(201);
    expect(
      (await u1.vote({ streamer_id: streamer, stars: 4 }, voteKey)).headers.get('idempotent-replayed'),
    ).toBe('true');
    // Telegram redelivers the update it got a 503 for: credited once.
    expect((await telegram(service.url, paymentUpdate(invoice.json.payload, 3, 90))).status).toBe(200);
    expect((await telegram(service.url, paymentUpdate(invoice.json.payload, 3, 91))).status).toBe(200);
    expect((await u1.wallet()).json.balance).toBe(10 - 4 + 3);
    expect((await fetch(`${service.url}/health`)).status).toBe(200);
  });

  it('ends a statement stalled on a lock with 503 after the lock timeout, not a hang', {
    timeout: 30_000,
  }, async () => {
    const locker = new pg.Client({ connectionString: direct });
    await locker.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE wallets IN ACCESS EXCLUSIVE MODE');
      unavailable(await user(service.url, 'u1').wallet(), 'GET /api/wallet behind a lock');
    } finally {
      await locker.query('ROLLBACK');
      await locker.end();
    }
    expect((await user(service.url, 'u1').wallet()).status).toBe(200);
  });

  it('sweeps expired idempotency records and keeps live ones', { timeout: 30_000 }, async () => {
    const database = new pg.Client({ connectionString: direct });
    await database.connect();
    try {
      await database.query(
        `INSERT INTO tollgate_idempotency
         (scope, state, fingerprint, fence, lease_until, expires_at, created_at, response_status)
         VALUES ('test-expired', 'completed', 'f', 1, now(), now() - interval '1 second', now(), 200),
                ('test-in-flight', 'in-flight', 'f', 1, now() + interval '1 hour', now() - interval '1 second', now(), NULL)`,
      );
      const left = async () =>
        (
          await database.query<{ scope: string }>(
            "SELECT scope FROM tollgate_idempotency WHERE scope LIKE 'test-%' ORDER BY scope",
          )
        ).rows.map((row) => row.scope);
      for (let attempt = 0; attempt < 100 && (await left()).length > 1; attempt++) await sleep(100);
      expect(await left()).toEqual(['test-in-flight']);
      // The vote's record (24 h) is not expired: it stays.
      const kept = await database.query("SELECT 1 FROM tollgate_idempotency WHERE state = 'completed'");
      expect(kept.rowCount).toBeGreaterThan(0);
    } finally {
      await database.end();
    }
    const metrics = await (await fetch(`${service.url}/metrics`)).text();
    expect(metrics).toMatch(/^idempotency_records_swept_total [1-9]/m);
  });
});
