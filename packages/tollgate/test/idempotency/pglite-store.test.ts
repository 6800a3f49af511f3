import { PGlite } from '@electric-sql/pglite';
import { PGliteIdempotencyStore } from 'tollgate/postgres';
import { describeStoreContract } from './contract.ts';

describeStoreContract('pglite', async () => {
  const db = new PGlite();
  const store = new PGliteIdempotencyStore(db);
  await store.migrate();
  return {
    store,
    elapse: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    shortMs: 150,
    expiresItself: false,
    close: () => db.close(),
  };
});
