/**
 * Starting the service as an operator would, as its own process: what cannot work refuses to
 * start with one line naming the setting (never a stack, never a URL's password); Redis that
 * does not answer is not one of those — the service starts degraded, as it runs through a Redis
 * outage; and a second process on the same embedded DATA_DIR is refused (each would see only
 * its own writes: a key charged twice, then acknowledged payments lost). Stopping: a drain that
 * runs out of time answers the requests still running 503 + Retry-After instead of resetting
 * their connections, and their retries resume them: charged once.
 */

import { afterAll, describe, expect, it } from 'vitest';
import { runUntilExit } from '../../../testkit/service-process.ts';
import { main, newKey, pay, scratchDir, spawnService } from './service.ts';

/** Runs the payments service until it exits (it must refuse to start). */
const refused = (env: Record<string, string>) => runUntilExit(main, env);

describe('starting the service', () => {
  const dir = scratchDir();
  afterAll(() => dir.dispose());

  it('refuses what cannot work with one line that names the setting and keeps the password out', {
    timeout: 60_000,
  }, async () => {
    const cases: [Record<string, string>, RegExp][] = [
      [
        { DATABASE_URL: 'not-a-url' },
        /^payments service cannot start: DATABASE_URL: expected a URL starting postgres:\/\//,
      ],
      [
        { DATABASE_URL: 'mysql://u:s3cretpw@127.0.0.1/db' },
        /DATABASE_URL: expected .* got one starting mysql:\/\//,
      ],
      [
        { REDIS_URL: 'garbage', DATA_DIR: `${dir.path}/r` },
        /^payments service cannot start: REDIS_URL: expected a URL starting redis:\/\//,
      ],
      [
        { DATABASE_URL: 'postgres://u:s3cretpw@127.0.0.1:1/db', DATABASE_CONNECT_TIMEOUT_MS: '500' },
        /^payments service cannot start: cannot open the database \(DATABASE_URL\): .*ECONNREFUSED/,
      ],
      [
        { RATE_LIMIT_PAYMENTS: '-1' },
        /^payments service cannot start: RATE_LIMIT_PAYMENTS: expected an integer/,
      ],
    ];
    await Promise.all(
      cases.map(async ([env, expected]) => {
        const { code, stderr } = await refused(env);
        expect(code, stderr).toBe(1);
        expect(stderr.trim().split('\n'), stderr).toHaveLength(1);
        expect(stderr).toMatch(expected);
        expect(stderr).not.toContain('s3cretpw');
        expect(stderr).not.toMatch(/\n\s+at /);
        expect(stderr, 'a cause said once').not.toMatch(/(ECONNREFUSED \S+).*\1/);
      }),
    );
  });

  it('starts degraded when Redis does not answer, and says so', { timeout: 60_000 }, async () => {
    const service = await spawnService({
      DATA_DIR: `${dir.path}/degraded`,
      REDIS_URL: 'redis://127.0.0.1:1',
    });
    try {
      const health = await fetch(`${service.url}/health`);
      const body = (await health.json()) as { status: string; services: { redis: { status: string } } };
      expect([health.status, body.status, body.services.redis.status]).toEqual([200, 'degraded', 'down']);
      expect(service.logs()).toMatch(/Redis \(REDIS_URL\) does not answer: running degraded/);
    } finally {
      service.child.kill('SIGTERM');
      await service.exited;
    }
  });

  it('refuses a second process on the same DATA_DIR while the first runs', { timeout: 60_000 }, async () => {
    const DATA_DIR = `${dir.path}/shared`;
    const first = await spawnService({ DATA_DIR });
    try {
      const { code, stderr } = await refused({ DATA_DIR });
      expect(code).toBe(1);
      expect(stderr).toContain(
        `payments service cannot start: DATA_DIR ${DATA_DIR} is in use by process ${first.child.pid}`,
      );
      expect((await fetch(`${first.url}/health`)).status).toBe(200);
    } finally {
      first.child.kill('SIGTERM');
      await first.exited;
    }
    // Stopped, it unlocked the directory.
    const next = await spawnService({ DATA_DIR });
    next.child.kill('SIGTERM');
    expect(await next.exited).toBe(0);
  });

  it('answers requests still running when the drain times out 503 + Retry-After; their retries resume them, charged once', {
    timeout: 60_000,
  }, async () => {
    const DATA_DIR = `${dir.path}/drain`;
    const env = {
      DATA_DIR,
      API_KEYS: 'key-alice:alice',
      PROCESSOR_LATENCY_MS: '4000',
      SHUTDOWN_TIMEOUT_MS: '500',
    };
    const first = await spawnService(env);
    const keys = [newKey(), newKey(), newKey()];
    const running = keys.map((key) => pay(first.url, { key }));
    await new Promise((resolve) => setTimeout(resolve, 500)); // all three wait on the processor
    first.child.kill('SIGTERM');
    const answers = await Promise.all(running);
    for (const answer of answers) {
      expect(answer.status, answer.text).toBe(503);
      expect(answer.headers.get('retry-after')).toBe('2');
      expect(answer.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(JSON.parse(answer.text).detail).toMatch(/same Idempotency-Key/);
    }
    expect(await first.exited).toBe(0);

    const second = await spawnService({ ...env, PROCESSOR_LATENCY_MS: '0' });
    try {
      const retried = await Promise.all(keys.map((key) => pay(second.url, { key })));
      expect(retried.map((answer) => answer.status)).toEqual([201, 201, 201]);
      const ids = retried.map((answer) => JSON.parse(answer.text).transaction_id as string);
      expect(new Set(ids).size).toBe(3);
      // Each one the payment the first process created (resumed, not made anew): its audit trail
      // says so, and the processor's ledger has one charge per payment.
      const audit = await fetch(`${second.url}/api/v1/audit-logs?limit=100`, {
        headers: { authorization: 'Bearer key-alice' },
      });
      const entries = ((await audit.json()) as { items: { action: string; transaction_id: string }[] }).items;
      for (const id of ids) {
        const actions = entries.filter((entry) => entry.transaction_id === id).map((entry) => entry.action);
        expect(actions.sort()).toEqual(['payment.created', 'payment.resumed', 'payment.succeeded']);
      }
    } finally {
      second.child.kill('SIGTERM');
      await second.exited;
    }
  });
});
