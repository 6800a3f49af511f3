import { type ChildProcess, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { PostgresIdempotencyStore } from 'tollgate/postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, keyPrefix, redisUrl } from '../../../../testkit/index.ts';
import { overHttp } from './fixtures/client.ts';

describe('concurrent duplicates across app instances sharing Redis + PostgreSQL', () => {
  const children: ChildProcess[] = [];
  const urls: { fastify: string; express: string }[] = [];
  let pool: pg.Pool;

  beforeAll(async () => {
    const databaseUrl = await freshDatabase();
    pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
    await new PostgresIdempotencyStore({ pool }).migrate();
    await pool.query('CREATE TABLE http_ledger (id serial PRIMARY KEY, key text NOT NULL)');
    const args = JSON.stringify({ redisUrl: redisUrl(), databaseUrl, prefix: keyPrefix() });
    for (let i = 0; i < 2; i++) {
      const child = fork(new URL('./fixtures/instance.ts', import.meta.url).pathname, [args], {
        execArgv: ['--conditions=tollgate-source', '--import', 'tsx'],
      });
      children.push(child);
      urls.push(await new Promise((resolve) => child.once('message', resolve as (m: unknown) => void)));
    }
  });

  afterAll(async () => {
    for (const child of children) child.disconnect();
    await pool.end();
  });

  for (const [name, pick] of [
    ['two Fastify processes', (i: number) => urls[i % 2]!.fastify],
    ['Fastify and Express in two processes', (i: number) => (i % 2 ? urls[1]!.express : urls[0]!.fastify)],
  ] as const) {
    it(`${name}: 24 racing requests with one key make one effect and one answer`, async () => {
      const key = randomBytes(16).toString('base64url');
      const request = {
        url: '/payments',
        headers: { 'idempotency-key': key, 'x-account': 'acct_race' },
        json: { amount: 2500, currency: 'EUR' },
      };
      const racing = await Promise.all(Array.from({ length: 24 }, (_, i) => overHttp(pick(i))(request)));
      const statuses = racing.map((response) => response.status);
      expect(statuses.every((status) => status === 201 || status === 409)).toBe(true);
      const { rows } = await pool.query('SELECT id FROM http_ledger WHERE key = $1', [key]);
      expect(rows).toHaveLength(1);
      const answers = await Promise.all([0, 1, 2, 3].map((i) => overHttp(pick(i))(request)));
      const bodies = new Set(
        [...racing.filter((r) => r.status === 201), ...answers].map((r) => r.body.toString()),
      );
      expect(answers.map((r) => r.status)).toEqual([201, 201, 201, 201]);
      expect([...bodies]).toEqual([
        JSON.stringify({ row: rows[0].id, pid: JSON.parse([...bodies][0]!).pid }),
      ]);
    });
  }
});
