import { PGlite } from '@electric-sql/pglite';
import { IdempotencyEngine } from 'tollgate/idempotency';
import { migrate, PGliteIdempotencyStore } from 'tollgate/postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { claimOf, describeStoreContract, request } from './contract.ts';

// One PGlite for the file: starting one costs seconds on a busy machine.
const db = new PGlite();
const store = new PGliteIdempotencyStore({ db });
const migrated = migrate(db);
afterAll(() => db.close());

describeStoreContract('pglite', async () => {
  await migrated;
  return {
    store,
    elapse: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    shortMs: 150,
    expiresItself: false,
    close: async () => undefined,
  };
});

describe('pglite: the transactional API', () => {
  it('rolls the claim and its completion back with the business write', async () => {
    await migrated;
    const engine = new IdempotencyEngine({ store });
    await db.exec('CREATE TABLE ledger (key text)');
    const req = request();
    await expect(
      db.transaction(async (tx) => {
        const begun = claimOf(await engine.begin(req, { store: store.within(tx) }));
        await tx.query('INSERT INTO ledger VALUES ($1)', [req.key]);
        await begun.claim.complete({ status: 201, body: 'ok' });
        throw new Error('crash before commit');
      }),
    ).rejects.toThrow('crash before commit');
    expect((await db.query('SELECT * FROM ledger')).rows).toHaveLength(0);
    const retry = claimOf(await engine.begin(req));
    await retry.claim.complete({ status: 201, body: 'ok' });
    expect((await engine.begin(req)).status).toBe('replay');
  });
});
