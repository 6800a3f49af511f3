import { spawn } from 'node:child_process';
import { once } from 'node:events';
import pg from 'pg';
import { IdempotencyEngine } from 'tollgate/idempotency';
import { PostgresIdempotencyStore } from 'tollgate/postgres';
import { describe, expect, it } from 'vitest';
import { freshDatabase, keyPrefix, redisUrl } from '../../../../testkit/index.ts';
import { claimOf, request } from './contract.ts';
import { openStores } from './fixtures/stores.ts';

describe('a process killed after a checkpoint', () => {
  it('leaves the key, after its lease, to a claimant that resumes from the checkpoint', async () => {
    const databaseUrl = await freshDatabase();
    const pool = new pg.Pool({ connectionString: databaseUrl, max: 1 });
    await new PostgresIdempotencyStore({ pool }).migrate();
    await pool.end();
    const servers = { redisUrl: redisUrl(), databaseUrl, prefix: keyPrefix() };
    const req = request();
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        new URL('./fixtures/checkpoint-then-die.ts', import.meta.url).pathname,
        JSON.stringify({ servers, request: req, leaseMs: 1_500 }),
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const [line] = (await once(child.stdout!, 'data')) as [Buffer];
    expect(line.toString()).toBe('checkpointed\n');
    child.kill('SIGKILL');
    await once(child, 'exit');

    const { stores, close } = openStores(servers, 1);
    for (const kind of ['redis', 'postgres', 'tiered'] as const) {
      const engine = new IdempotencyEngine({ store: stores[kind][0]! });
      const key = `${req.key}-${kind}`;
      expect((await engine.begin({ ...req, key })).status).toBe('in-flight'); // the dead holder's lease
    }
    await new Promise((resolve) => setTimeout(resolve, 1_550));
    for (const kind of ['redis', 'postgres', 'tiered'] as const) {
      const engine = new IdempotencyEngine({ store: stores[kind][0]! });
      const next = claimOf(await engine.begin({ ...req, key: `${req.key}-${kind}` }));
      expect(next.checkpoint).toEqual({ name: 'charged', data: { charge: `ch_${kind}`, at: 'processor' } });
    }
    await close();
  });
});
