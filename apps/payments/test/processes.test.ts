/**
 * The promises across processes: a duplicate storm over four processes sharing PostgreSQL +
 * Redis, a process killed with payments in flight, the embedded default across a restart, and
 * the processor's faults.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, keyPrefix, redisUrl } from '../../../testkit/index.ts';
import {
  newKey,
  pay,
  paymentBody,
  type ServiceProcess,
  scratchDir,
  spawnService,
  startService,
} from './service.ts';

const unlimited = {
  RATE_LIMIT_GLOBAL: '100000000',
  RATE_LIMIT_USER: '100000000',
  RATE_LIMIT_PAYMENTS: '100000000',
  RATE_LIMIT_BURST_RATE: '100000000',
  RATE_LIMIT_BURST_CAPACITY: '100000000',
};

/** Sends until the answer is final (not 409/503), as a retrying client does; returns the last. */
async function payUntilFinal(urls: readonly string[], key: string, apiKey: string, start: number) {
  for (let attempt = 0; ; attempt++) {
    const url = urls[(start + attempt) % urls.length]!;
    const answer = await pay(url, { key, apiKey }).catch(() => ({
      status: 0,
      text: '',
      headers: new Headers(),
    }));
    if (answer.status !== 409 && answer.status !== 503 && answer.status !== 0) return answer;
    if (attempt > 400) throw new Error(`no final answer for ${key}: last ${answer.status} ${answer.text}`);
    await sleep(answer.status === 0 ? 50 : 25 + Math.random() * 50);
  }
}

async function stop(processes: ServiceProcess[]) {
  for (const one of processes) if (one.child.exitCode === null) one.child.kill('SIGKILL');
  await Promise.all(processes.map((one) => one.exited));
}

describe('several processes on PostgreSQL + Redis', () => {
  let databaseUrl: string;
  let pool: pg.Pool;
  let env: Record<string, string>;
  const started: ServiceProcess[] = [];
  const count = async (sql: string, params: unknown[] = []) =>
    Number((await pool.query(sql, params)).rows[0].n);

  beforeAll(async () => {
    databaseUrl = await freshDatabase();
    pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
    env = {
      DATABASE_URL: databaseUrl,
      DATABASE_POOL_SIZE: '10',
      REDIS_URL: redisUrl(),
      REDIS_KEY_PREFIX: keyPrefix(),
      API_KEYS: 'key-storm:storm,key-crash:crash',
      ...unlimited,
    };
  });
  afterAll(async () => {
    await stop(started);
    await pool.end();
  });

  it('duplicate storm: 500 keys × 8 concurrent requests over 4 processes make exactly 500 charges', {
    timeout: 90_000,
  }, async () => {
    const processes = await Promise.all(Array.from({ length: 4 }, () => spawnService(env)));
    started.push(...processes);
    const urls = processes.map((one) => one.url);
    const keys = Array.from({ length: 500 }, () => newKey());
    const answers = new Map<string, string[]>();
    let next = 0;
    let conflicts = 0;
    const worker = async () => {
      while (next < keys.length) {
        const key = keys[next++]!;
        const racing = await Promise.all(
          Array.from({ length: 8 }, async (_, i) => {
            const first = await pay(urls[i % 4]!, { key, apiKey: 'key-storm' });
            if (first.status === 409) conflicts++;
            return first.status === 409 ? payUntilFinal(urls, key, 'key-storm', i) : first;
          }),
        );
        answers.set(
          key,
          racing.map((answer) => `${answer.status} ${answer.text}`),
        );
      }
    };
    await Promise.all(Array.from({ length: 24 }, worker));
    for (const [, bodies] of answers) {
      expect(bodies[0]).toMatch(/^201 /);
      expect(new Set(bodies).size).toBe(1);
    }
    const ids = new Set(
      [...answers.values()].map((bodies) => JSON.parse(bodies[0]!.slice(4)).transaction_id),
    );
    expect(ids.size).toBe(500);
    expect(await count("SELECT count(*) AS n FROM payments WHERE principal = 'storm'")).toBe(500);
    expect(
      await count(
        "SELECT count(*) AS n FROM processor_charges c JOIN payments p ON p.downstream_key = c.downstream_key WHERE p.principal = 'storm'",
      ),
    ).toBe(500);
    expect(conflicts).toBeGreaterThan(0); // the duplicates really raced
  });

  it('crash: a process killed with payments in flight; retries against a survivor complete each once', {
    timeout: 60_000,
  }, async () => {
    const crashEnv = { ...env, PROCESSOR_LATENCY_MS: '400', IDEMPOTENCY_LEASE_MS: '1500' };
    const [victim, survivor] = await Promise.all([spawnService(crashEnv), spawnService(crashEnv)]);
    started.push(victim!, survivor!);
    const keys = Array.from({ length: 30 }, () => newKey());
    const inFlight = keys.map((key) => pay(victim!.url, { key, apiKey: 'key-crash' }).catch(() => undefined));
    // Kill it once some payments have committed phase 1 and wait on the processor, so the
    // retries really resume them (not a fixed sleep: a loaded machine may not be there yet).
    for (let waited = 0; waited < 10_000; waited += 20) {
      if (
        (await count("SELECT count(*) AS n FROM payments WHERE principal = 'crash' AND status = 'pending'")) >
        0
      )
        break;
      await sleep(20);
    }
    victim!.child.kill('SIGKILL');
    await victim!.exited;
    const before = await Promise.all(inFlight);
    expect(before.filter((answer) => answer?.status === 201).length).toBeLessThan(keys.length);

    const finals = await Promise.all(keys.map((key) => payUntilFinal([survivor!.url], key, 'key-crash', 0)));
    expect(finals.map((answer) => answer.status)).toEqual(keys.map(() => 201));
    const again = await Promise.all(keys.map((key) => pay(survivor!.url, { key, apiKey: 'key-crash' })));
    expect(again.map((answer) => answer.text)).toEqual(finals.map((answer) => answer.text));
    for (const [i, answer] of before.entries()) {
      if (answer?.status === 201) expect(answer.text).toBe(finals[i]!.text);
    }
    expect(await count("SELECT count(*) AS n FROM payments WHERE principal = 'crash'")).toBe(30);
    expect(
      await count("SELECT count(*) AS n FROM payments WHERE principal = 'crash' AND status = 'pending'"),
    ).toBe(0);
    expect(
      await count(
        "SELECT count(*) AS n FROM processor_charges c JOIN payments p ON p.downstream_key = c.downstream_key WHERE p.principal = 'crash'",
      ),
    ).toBe(30);
    expect(
      await count(
        "SELECT count(*) AS n FROM audit_logs WHERE principal = 'crash' AND action = 'payment.resumed'",
      ),
    ).toBeGreaterThan(0);
  });

  it('a processor decline is a stored outcome; a processor failure releases the key and the retry resumes the same payment', async () => {
    const base = { ...env, API_KEYS: 'key-faults:faults' };
    const declining = await startService({ ...base, PROCESSOR_DECLINE_RATE: '1' });
    const failing = await startService({ ...base, PROCESSOR_FAILURE_RATE: '1' });
    const healthy = await startService(base);
    try {
      const declinedKey = newKey();
      const declined = await pay(declining.url, { key: declinedKey, apiKey: 'key-faults' });
      expect(declined.status).toBe(201);
      expect(JSON.parse(declined.text)).toMatchObject({
        status: 'declined',
        decline_code: 'insufficient_funds',
      });
      expect((await pay(healthy.url, { key: declinedKey, apiKey: 'key-faults' })).text).toBe(declined.text);

      const key = newKey();
      const failures = [];
      for (let i = 0; i < 4; i++) failures.push(await pay(failing.url, { key, apiKey: 'key-faults' }));
      const ids = new Set(failures.map((answer) => JSON.parse(answer.text).transaction_id));
      expect(failures.map((answer) => [answer.status, answer.headers.get('retry-after')])).toEqual(
        failures.map(() => [503, '1']),
      );
      expect(ids.size).toBe(1);
      const [transactionId] = ids;
      expect(
        await count('SELECT count(*) AS n FROM payments WHERE transaction_id = $1 AND status = $2', [
          transactionId,
          'pending',
        ]),
      ).toBe(1);
      const resumed = await pay(healthy.url, { key, apiKey: 'key-faults' });
      expect(resumed.status).toBe(201);
      expect(JSON.parse(resumed.text)).toMatchObject({ transaction_id: transactionId, status: 'succeeded' });
      expect(
        await count('SELECT count(*) AS n FROM processor_charges WHERE downstream_key = $1', [
          `payments:${transactionId}`,
        ]),
      ).toBe(1);
      expect(await count("SELECT count(*) AS n FROM payments WHERE principal = 'faults'")).toBe(2);
    } finally {
      await Promise.all([declining.close(), failing.close(), healthy.close()]);
    }
  });
});

describe('the embedded default across a restart', () => {
  it('keeps payments and replays after SIGTERM and a new start on the same DATA_DIR', {
    timeout: 60_000,
  }, async () => {
    const dir = scratchDir();
    try {
      const env = { DATA_DIR: dir.path, API_KEY: 'key-restart' };
      const first = await spawnService(env);
      const key = newKey();
      const created = await pay(first.url, { key, apiKey: 'key-restart' });
      expect(created.status).toBe(201);
      first.child.kill('SIGTERM');
      expect(await first.exited).toBe(0);

      const second = await spawnService(env);
      try {
        const replay = await pay(second.url, { key, apiKey: 'key-restart' });
        expect([replay.status, replay.text, replay.headers.get('idempotent-replayed')]).toEqual([
          201,
          created.text,
          'true',
        ]);
        const { transaction_id } = JSON.parse(created.text);
        const read = await fetch(`${second.url}/api/v1/payments/${transaction_id}`, {
          headers: { authorization: 'Bearer key-restart' },
        });
        expect(read.status).toBe(200);
        expect(
          (await pay(second.url, { key, apiKey: 'key-restart', body: { ...paymentBody, amount: 1 } })).status,
        ).toBe(422);
      } finally {
        second.child.kill('SIGTERM');
        expect(await second.exited).toBe(0);
      }
    } finally {
      dir.dispose();
    }
  });
});
