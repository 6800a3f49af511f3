/**
 * The PGlite worker parses each statement text once and then only binds and executes it: rows
 * and their JavaScript types are what `db.query` on PGlite returns, a statement is reused across
 * transactions, a failure leaves the worker usable, a change of a table's shape never reaches a
 * stale statement, and transactions on the queue still never interleave.
 */
import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scratchDir } from '../../../testkit/index.ts';
import type { Database, ServiceSchema } from '../src/database/database.ts';
import { openPGlite } from '../src/database/pglite.ts';
import { PGliteThread } from '../src/database/pglite-thread.ts';

/** A service with no tables or statements of its own (this folder holds no migrations). */
const noTables: ServiceSchema = {
  name: 'kit_test',
  migrations: new URL('./', import.meta.url),
  statements: {},
};

const schema = `
  CREATE TABLE sample (
    id bigint PRIMARY KEY, label text, at timestamptz, body jsonb, amount numeric, data bytea,
    flags boolean[], ratio float8, small smallint, day date
  )`;
const insert =
  'INSERT INTO sample (id, label, at, body, amount, data, flags, ratio, small, day) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING *';
const select = 'SELECT *, id::text AS id_text, count(*) OVER () AS total FROM sample WHERE id = $1';
const rowOf = (id: number) => [
  id,
  `label ${id}`,
  new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 6)),
  JSON.stringify({ id, nested: [1, 'two'] }),
  '12345678901234567890.25',
  new Uint8Array([0, id, 255]),
  [true, false],
  0.5,
  7,
  '2026-01-02',
];

describe('the PGlite worker’s prepared statements', () => {
  let thread: PGliteThread;
  let plain: PGlite;
  let dispose: () => void;

  beforeAll(async () => {
    const dir = scratchDir();
    dispose = dir.dispose;
    thread = await PGliteThread.start(dir.path);
    plain = await PGlite.create();
    await thread.exec(schema);
    await plain.exec(schema);
  });
  afterAll(async () => {
    await thread.close();
    await plain.close();
    dispose();
  });

  it('answers the rows, fields and types db.query answers, on the first run and every later one', async () => {
    for (const id of [1, 2, 3]) {
      const [worker, reference] = [
        await thread.query(insert, rowOf(id)),
        await plain.query(insert, rowOf(id)),
      ];
      expect(worker).toEqual({
        rows: reference.rows,
        fields: reference.fields,
        affectedRows: reference.affectedRows,
      });
    }
    for (const id of [1, 2, 3, 4]) {
      const [worker, reference] = [await thread.query(select, [id]), await plain.query(select, [id])];
      expect(worker).toEqual({
        rows: reference.rows,
        fields: reference.fields,
        affectedRows: reference.affectedRows,
      });
    }
    const [row] = (await thread.query(select, [1])).rows as Record<string, unknown>[];
    expect(row!.at).toBeInstanceOf(Date);
    expect(row!.body).toEqual({ id: 1, nested: [1, 'two'] });
    expect(row!.data).toEqual(new Uint8Array([0, 1, 255]));
  });

  it('reuses a statement across transactions, each with its BEGIN, and keeps what each committed or rolled back', async () => {
    const bump = 'UPDATE sample SET small = small + $2 WHERE id = $1 RETURNING small';
    await thread.query(bump, [1, 1], true);
    await thread.exec('COMMIT');
    await thread.query(bump, [1, 100], true);
    await thread.exec('ROLLBACK');
    const [committed] = (await thread.query(bump, [1, 1], true)).rows;
    await thread.exec('COMMIT');
    expect(committed).toEqual({ small: 9 });
  });

  it('stays usable after a statement fails: at parse, at execution, and inside a transaction', async () => {
    await expect(thread.query('SELEC 1', [])).rejects.toMatchObject({ code: '42601' });
    await expect(thread.query(insert, rowOf(1))).rejects.toMatchObject({
      code: '23505',
      constraint: 'sample_pkey',
    });
    await expect(thread.query(insert, rowOf(1), true)).rejects.toMatchObject({ code: '23505' });
    // The failed transaction refuses statements until it is rolled back, as on any connection.
    await expect(thread.query(select, [1])).rejects.toMatchObject({ code: '25P02' });
    // A script deallocates the prepared statements, even inside the failed transaction.
    await expect(thread.exec('SELECT 1')).rejects.toMatchObject({ code: '25P02' });
    await thread.exec('ROLLBACK');
    expect((await thread.query(select, [1])).rows).toHaveLength(1);
    expect((await thread.query(insert, rowOf(5))).rows).toHaveLength(1);
  });

  it('parses a statement afresh after a change of the table it reads', async () => {
    expect(Object.keys((await thread.query(select, [1])).rows[0] as object)).not.toContain('extra');
    await thread.exec('ALTER TABLE sample ADD COLUMN extra text');
    expect(Object.keys((await thread.query(select, [1])).rows[0] as object)).toContain('extra');
    await thread.query('ALTER TABLE sample DROP COLUMN extra', []);
    expect(Object.keys((await thread.query(select, [1])).rows[0] as object)).not.toContain('extra');
  });
});

describe('transactions of the embedded default on prepared statements', () => {
  let database: Database;
  let dispose: () => void;

  beforeAll(async () => {
    const dir = scratchDir();
    dispose = dir.dispose;
    database = await openPGlite(dir.path, noTables);
    await database.query('CREATE TABLE counter (id int PRIMARY KEY, value int NOT NULL)');
    await database.query('INSERT INTO counter VALUES (1, 0)');
  });
  afterAll(async () => {
    await database.close();
    dispose();
  });

  it('never interleaves: concurrent read-then-write transactions lose no update, and a failed one changes nothing', async () => {
    const increment = (fail: boolean) =>
      database.transaction(async (tx) => {
        const [row] = await tx.query<{ value: number }>('SELECT value FROM counter WHERE id = $1', [1]);
        await Promise.resolve();
        await tx.query('UPDATE counter SET value = $2 WHERE id = $1', [1, row!.value + 1]);
        if (fail) await tx.query('SELECT 1 / 0', []);
      });
    const outcomes = await Promise.allSettled(
      Array.from({ length: 40 }, (_, index) => increment(index % 4 === 3)),
    );
    expect(outcomes.filter(({ status }) => status === 'rejected')).toHaveLength(10);
    const [row] = await database.query<{ value: number }>('SELECT value FROM counter WHERE id = $1', [1]);
    expect(row!.value).toBe(30);
  });
});
