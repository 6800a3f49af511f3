import { spawn } from 'node:child_process';
import { once } from 'node:events';
import pg from 'pg';
import { IdempotencyEngine } from 'tollgate/idempotency';
import { PostgresIdempotencyStore } from 'tollgate/postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase } from '../../../../testkit/index.ts';
import { claimOf, request } from './contract.ts';

describe('the transactional API: a business write and its completion commit together', () => {
  let databaseUrl: string;
  let pool: pg.Pool;
  let store: PostgresIdempotencyStore;
  let engine: IdempotencyEngine;
  const balance = async () =>
    (await pool.query<{ balance: number }>("SELECT balance FROM accounts WHERE id = 'acct'")).rows[0]!
      .balance;

  /** Debit and complete in one transaction of `client`, claiming in it too unless `claim` is given. */
  async function pay(client: pg.PoolClient, req: ReturnType<typeof request>) {
    await client.query('BEGIN');
    const begun = await engine.begin(req, { store: store.within(client) });
    if (begun.status !== 'new') {
      await client.query('ROLLBACK');
      return begun.status;
    }
    await client.query("UPDATE accounts SET balance = balance - 100 WHERE id = 'acct'");
    await begun.claim.complete({ status: 201, body: 'debited' });
    await client.query('COMMIT');
    return begun.status;
  }

  beforeAll(async () => {
    databaseUrl = await freshDatabase();
    pool = new pg.Pool({ connectionString: databaseUrl, max: 4 });
    store = new PostgresIdempotencyStore({ pool });
    await store.migrate();
    engine = new IdempotencyEngine({ store });
    await pool.query(
      "CREATE TABLE accounts (id text PRIMARY KEY, balance int NOT NULL); INSERT INTO accounts VALUES ('acct', 10000)",
    );
  });
  afterAll(() => pool?.end());

  it('commits the debit with the completion, and replays without debiting again', async () => {
    const req = request();
    const start = await balance();
    const client = await pool.connect();
    expect(await pay(client, req)).toBe('new');
    expect(await pay(client, req)).toBe('replay');
    client.release();
    expect(await balance()).toBe(start - 100);
  });

  it('leaves no debit and a free key when the process dies between the debit and COMMIT', async () => {
    const req = request();
    const start = await balance();
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        new URL('./fixtures/debit-then-die.ts', import.meta.url).pathname,
        JSON.stringify({ databaseUrl, request: req }),
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const [chunk] = (await once(child.stdout!, 'data')) as [Buffer];
    expect(chunk.toString()).toBe('uncommitted\n');
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;

    // The claim died with the transaction: the retry claims at once (waiting out the server's
    // rollback of the dead connection, if any) and pays exactly once.
    const client = await pool.connect();
    expect(await balance()).toBe(start);
    expect(await pay(client, req)).toBe('new');
    expect(await pay(client, req)).toBe('replay');
    client.release();
    expect(await balance()).toBe(start - 100);
  });

  it('with the claim made outside, a rolled-back completion leaves the key to a retry after the lease', async () => {
    const req = request();
    const start = await balance();
    const first = claimOf(await engine.begin(req, { leaseMs: 200 }));
    await first.claim.checkpoint('authorised', { auth: 'au_1' });
    const client = await pool.connect();
    await client.query('BEGIN');
    await client.query("UPDATE accounts SET balance = balance - 100 WHERE id = 'acct'");
    const inTx = await store.within(client).complete({
      scope: first.claim.scope,
      fence: first.claim.fence,
      fingerprint: req.fingerprint,
      response: { status: 201, headers: [], body: new Uint8Array(), bodyOmitted: false },
      ttlMs: 60_000,
    });
    expect(inTx).toEqual({ ok: true });
    client.release(new Error('the connection dies before COMMIT'));
    expect(await balance()).toBe(start);
    expect((await engine.begin(req)).status).toBe('in-flight');
    await new Promise((resolve) => setTimeout(resolve, 250));
    const retry = claimOf(await engine.begin(req));
    expect(retry.checkpoint).toEqual({ name: 'authorised', data: { auth: 'au_1' } });
    expect(await first.claim.complete({ status: 201 })).toEqual({ ok: false, reason: 'stale-fence' });
  });
});
