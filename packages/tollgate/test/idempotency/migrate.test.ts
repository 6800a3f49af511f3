import pg from 'pg';
import { migrate, PostgresIdempotencyStore } from 'tollgate/postgres';
import { describe, expect, it } from 'vitest';
import { freshDatabase } from '../../../../testkit/index.ts';

describe('migrations', () => {
  it('are numbered .sql files applied once, each recorded, even by several processes starting together', async () => {
    const url = await freshDatabase();
    const pools = Array.from({ length: 3 }, () => new pg.Pool({ connectionString: url, max: 1 }));
    const applied = await Promise.all(pools.map((pool) => new PostgresIdempotencyStore({ pool }).migrate()));
    expect(applied.flat()).toEqual(['0001_idempotency.sql']);
    expect(await new PostgresIdempotencyStore({ pool: pools[0]! }).migrate()).toEqual([]);

    const [pool] = pools as [pg.Pool];
    const recorded = await pool.query('SELECT id, name FROM tollgate_migrations');
    expect(recorded.rows).toEqual([{ id: 1, name: '0001_idempotency.sql' }]);
    const constraints = await pool.query(
      "SELECT conname FROM pg_constraint WHERE conrelid = 'tollgate_idempotency'::regclass AND contype = 'u'",
    );
    expect(constraints.rows).toEqual([{ conname: 'tollgate_idempotency_scope_key' }]);
    const indexes = await pool.query(
      "SELECT indexdef FROM pg_indexes WHERE tablename = 'tollgate_idempotency'",
    );
    expect(indexes.rows.map((row) => row.indexdef).join('\n')).toContain('(expires_at)');
    await Promise.all(pools.map((p) => p.end()));
  });

  it('roll back a failing migration whole, record and all', async () => {
    const url = await freshDatabase();
    const pool = new pg.Pool({ connectionString: url, max: 1 });
    // A table in the way makes 0001 fail after it was recorded inside its transaction.
    await pool.query('CREATE TABLE tollgate_idempotency (x int)');
    await expect(new PostgresIdempotencyStore({ pool }).migrate()).rejects.toThrow(/already exists/);
    const recorded = await pool.query("SELECT to_regclass('tollgate_migrations')::text AS t");
    expect(recorded.rows).toEqual([{ t: null }]); // not even the record of the attempt survived
    await pool.query('DROP TABLE tollgate_idempotency');
    expect(await new PostgresIdempotencyStore({ pool }).migrate()).toEqual(['0001_idempotency.sql']);
    await pool.end();
  });

  it("run an app's own numbered files through the same runner, recorded in the app's table", async () => {
    const url = await freshDatabase();
    const pools = Array.from({ length: 2 }, () => new pg.Pool({ connectionString: url, max: 1 }));
    const options = { directory: new URL('./fixtures/app-sql/', import.meta.url), table: 'app_migrations' };
    const applied = await Promise.all(pools.map((pool) => migrate(pool, options)));
    expect(applied.flat().sort()).toEqual(['0001_accounts.sql', '0002_ledger.sql']);
    const [pool] = pools as [pg.Pool];
    expect((await pool.query('SELECT name FROM app_migrations ORDER BY id')).rows.map((r) => r.name)).toEqual(
      ['0001_accounts.sql', '0002_ledger.sql'],
    );
    await pool.query("INSERT INTO accounts VALUES ('a', 0)");
    await pool.query("SELECT credit('a', 5)");
    expect((await pool.query("SELECT balance FROM accounts WHERE id = 'a'")).rows).toEqual([
      { balance: '5' },
    ]);
    expect(
      await pool.query("SELECT to_regclass('tollgate_migrations')::text AS t").then((r) => r.rows),
    ).toEqual([{ t: null }]); // tollgate's own table is untouched by an app's run
    await expect(migrate(pool, { ...options, table: 'Bad Name' })).rejects.toMatchObject({
      code: 'ERR_MIGRATE_TABLE',
    });
    await Promise.all(pools.map((p) => p.end()));
  });
});
