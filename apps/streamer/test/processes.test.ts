/**
 * Money moves once across two processes sharing PostgreSQL + Redis, and after Redis restarts
 * empty; no secret reaches the logs.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, keyPrefix, PrivateRedis } from '../../../testkit/index.ts';
import {
  call,
  fund,
  newKey,
  newStreamer,
  paymentUpdate,
  type Reply,
  type ServiceProcess,
  scratchDir,
  spawnService,
  startService,
  TELEGRAM_SECRET,
  telegram,
  user,
} from './service.ts';

const roomy = {
  LIMITS_STREAMER_SUBMIT_PER10M: '1000',
  LIMITS_INVOICE_PER5M: '1000',
  LIMITS_WITHDRAW_PER_HOUR: '1000',
  LIMITS_TELEGRAM_WEBHOOK_PER_MIN: '1000',
};

/** Retries a 409 (still in flight) as a client would, up to 100 times. */
async function untilFinal(send: () => Promise<Reply>): Promise<Reply> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const answer = await send();
    if (answer.status !== 409) return answer;
    await sleep(20 + Math.random() * 30);
  }
  throw new Error(`still 409 after 100 attempts: ${(await send()).text}`);
}

describe('the embedded default across a restart', () => {
  it('keeps money keys in PGlite: a retry after the restart replays, nothing moves twice', async () => {
    const dir = scratchDir();
    try {
      let service = await startService({ DATA_DIR: dir.path });
      await fund(service.url, 'u1', 10);
      const streamer = await newStreamer(service.url, 'u1');
      const key = newKey();
      const first = await user(service.url, 'u1').vote({ streamer_id: streamer, stars: 4 }, key);
      expect(first.status).toBe(201);
      await service.close();
      service = await startService({ DATA_DIR: dir.path });
      try {
        const again = await user(service.url, 'u1').vote({ streamer_id: streamer, stars: 4 }, key);
        expect([again.status, again.text, again.headers.get('idempotent-replayed')]).toEqual([
          201,
          first.text,
          'true',
        ]);
        expect((await user(service.url, 'u1').wallet()).json.balance).toBe(6);
      } finally {
        await service.close();
      }
    } finally {
      dir.dispose();
    }
  });
});

describe('PostgreSQL + Redis across processes', () => {
  let redis: PrivateRedis;
  let pool: pg.Pool;
  let env: Record<string, string>;
  let processes: ServiceProcess[] = [];
  const one = async (sql: string, params: unknown[] = []) =>
    Number((await pool.query(sql, params)).rows[0].n);

  beforeAll(async () => {
    redis = await PrivateRedis.start();
    const databaseUrl = await freshDatabase();
    pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
    env = { DATABASE_URL: databaseUrl, REDIS_URL: redis.url, REDIS_KEY_PREFIX: keyPrefix(), ...roomy };
    // The first process migrates; the second finds the schema in place.
    processes = [await spawnService({ ...env, LOG_LEVEL: 'info' })];
    processes.push(await spawnService(env));
  });
  afterAll(async () => {
    for (const child of processes) child.child.kill('SIGKILL');
    await Promise.all(processes.map((child) => child.exited));
    await pool.end();
    await redis.dispose();
  });

  it('16 copies of one vote and of one Telegram payment, split over two processes: one ledger row each', async () => {
    const [a, b] = processes.map((child) => child.url) as [string, string];
    const streamer = await newStreamer(a, 'u1');
    await fund(b, 'u1', 100);
    const key = newKey();
    const body = { streamer_id: streamer, stars: 10 };
    const votes = await Promise.all(
      Array.from({ length: 16 }, (_, i) => untilFinal(() => user(i % 2 ? a : b, 'u1').vote(body, key))),
    );
    for (const vote of votes) expect([vote.status, vote.text]).toEqual([201, votes[0]!.text]);
    expect(await one("SELECT count(*) AS n FROM wallet_ledger WHERE user_id = 'u1' AND kind = 'vote'")).toBe(
      1,
    );

    const invoice = (await user(a, 'u2').invoice(40, newKey())).json;
    const payments = await Promise.all(
      Array.from({ length: 16 }, (_, i) =>
        untilFinal(() => telegram(i % 2 ? a : b, paymentUpdate(invoice.payload, 40, 500 + i))),
      ),
    );
    for (const payment of payments) expect(payment.status).toBe(200);
    expect(
      await one("SELECT count(*) AS n FROM wallet_ledger WHERE user_id = 'u2' AND kind = 'credit'"),
    ).toBe(1);
    expect((await user(b, 'u2').wallet()).json.balance).toBe(40);
  });

  it('after Redis restarts empty, retries replay from PostgreSQL and move nothing more', async () => {
    const service = await startService(env);
    try {
      await fund(service.url, 'u3', 50);
      const key = newKey();
      const first = await user(service.url, 'u3').withdraw({ stars: 20, destination: 'ton:a' }, key);
      expect(first.status).toBe(201);
      // Fill the replay cache, then lose it.
      expect((await user(service.url, 'u3').withdraw({ stars: 20, destination: 'ton:a' }, key)).status).toBe(
        201,
      );
      await redis.kill();
      await redis.start();
      for (
        let i = 0;
        i < 100 && (await call(service.url, 'GET', '/health')).json.services.redis.status !== 'up';
        i++
      )
        await sleep(50);
      const copies = await Promise.all(
        Array.from({ length: 8 }, () =>
          untilFinal(() => user(service.url, 'u3').withdraw({ stars: 20, destination: 'ton:a' }, key)),
        ),
      );
      for (const copy of copies) expect([copy.status, copy.text]).toEqual([201, first.text]);
      expect(await one("SELECT count(*) AS n FROM withdrawals WHERE user_id = 'u3'")).toBe(1);
      expect((await user(service.url, 'u3').wallet()).json.balance).toBe(30);
    } finally {
      await service.close();
    }
  });

  it('writes no key, secret or query string to the logs', async () => {
    const url = processes[0]!.url;
    const idempotencyKey = newKey();
    await user(url, 'u4').vote({ streamer_id: 'str_none', stars: 1 }, idempotencyKey);
    await call(url, 'GET', '/api/wallet?token=query-secret-123', {
      headers: { authorization: 'Bearer key-u4' },
    });
    await telegram(url, { update_id: 1 });
    await sleep(200);
    const logs = processes[0]!.logs();
    expect(logs).toContain('"url":"/api/wallet"');
    for (const secret of ['key-u4', idempotencyKey, 'query-secret-123', TELEGRAM_SECRET]) {
      expect(logs).not.toContain(secret);
    }
  });
});
