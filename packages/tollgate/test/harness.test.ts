import { Redis } from 'ioredis';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { freshDatabase, keyPrefix, PrivateRedis, redisUrl } from '../../../testkit/index.ts';

describe('test harness', () => {
  it('reaches the run Redis under a private prefix', async () => {
    const redis = new Redis(redisUrl());
    const key = `${keyPrefix()}probe`;
    await redis.set(key, 'x', 'PX', 10_000);
    expect(await redis.get(key)).toBe('x');
    await redis.del(key);
    redis.disconnect();
  });

  it('gives each caller a fresh PostgreSQL database', async () => {
    const url = await freshDatabase();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const { rows } = await client.query('SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = $1', [
      'public',
    ]);
    expect(rows[0].n).toBe(0);
    await client.end();
  });

  it('restarts a private Redis empty on the same port', async () => {
    const server = await PrivateRedis.start();
    const redis = new Redis(server.url, { maxRetriesPerRequest: 1 });
    await redis.set('k', 'v');
    await server.kill();
    await server.start();
    await expect(redis.get('k')).resolves.toBeNull();
    redis.disconnect();
    await server.dispose();
  });
});
