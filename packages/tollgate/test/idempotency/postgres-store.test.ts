import pg from 'pg';
import { PostgresIdempotencyStore } from 'tollgate/postgres';
import { freshDatabase } from '../../../../testkit/index.ts';
import { describeStoreContract } from './contract.ts';

describeStoreContract('postgres', async () => {
  const pool = new pg.Pool({ connectionString: await freshDatabase(), max: 5 });
  const store = new PostgresIdempotencyStore({ pool });
  await store.migrate();
  return {
    store,
    elapse: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    shortMs: 150,
    expiresItself: false,
    close: () => pool.end(),
  };
});
