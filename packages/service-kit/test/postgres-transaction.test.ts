import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase } from '../../../testkit/index.ts';
import type { Database, ServiceSchema } from '../src/database/database.ts';
import { openPostgres } from '../src/database/postgres.ts';

/** A service with no tables or statements of its own (this folder holds no migrations). */
const noTables: ServiceSchema = {
  name: 'kit_test',
  migrations: new URL('./', import.meta.url),
  statements: {},
};

/**
 * The pool pipelines: a transaction's BEGIN is written together with its first statement.
 * That statement must still run inside the transaction, and statements must keep their order.
 */
describe('a PostgreSQL transaction whose BEGIN travels with its first statement', () => {
  let database: Database;

  beforeAll(async () => {
    database = openPostgres(
      {
        connectionString: await freshDatabase(),
        poolSize: 4,
        connectTimeoutMs: 2000,
        statementTimeoutMs: 2000,
        lockTimeoutMs: 1000,
        idleInTransactionTimeoutMs: 5000,
      },
      noTables,
    );
    await database.query('CREATE TABLE pipelined (n int PRIMARY KEY)');
  });
  afterAll(() => database?.close());

  const count = async () =>
    (await database.query<{ n: number }>('SELECT count(*)::int AS n FROM pipelined'))[0]!.n;

  it('rolls the first statement back with the rest', async () => {
    await expect(
      database.transaction(async (tx) => {
        await tx.query('INSERT INTO pipelined VALUES (1)');
        throw new Error('the work failed');
      }),
    ).rejects.toThrow('the work failed');
    expect(await count()).toBe(0);
  });

  it('rolls back when the first statement itself fails, and the connection stays usable', async () => {
    await expect(
      database.transaction((tx) => tx.query('INSERT INTO pipelined VALUES (NULL)')),
    ).rejects.toThrow();
    // Every connection of the pool is taken and given back: none is left in a transaction.
    await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        database.transaction(async (tx) => {
          await tx.query('INSERT INTO pipelined VALUES ($1)', [100 + i]);
        }),
      ),
    );
    expect(await count()).toBe(8);
  });

  it('runs statements issued together in the order they were issued', async () => {
    const seen = await database.transaction(async (tx) => {
      const first = tx.query('INSERT INTO pipelined VALUES (200) RETURNING n');
      const second = tx.query<{ n: number }>('SELECT count(*)::int AS n FROM pipelined WHERE n = 200');
      await first;
      return (await second)[0]!.n;
    });
    expect(seen).toBe(1);
  });

  it('is one transaction: its statements see one snapshot start', async () => {
    const [a, b] = await database.transaction(async (tx) => {
      const [x] = await tx.query<{ t: string }>('SELECT now()::text AS t');
      const [y] = await tx.query<{ t: string }>('SELECT now()::text AS t');
      return [x!.t, y!.t];
    });
    // now() is the transaction's start: the same for both statements only inside one transaction.
    expect(a).toBe(b);
  });
});
