/**
 * What a test file needs to reach the run's real servers. Every name a test writes to a
 * shared server carries this run's prefix, so nothing a test did not create is touched.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';
import { createDatabase } from './postgres.ts';

export { PrivatePostgres } from './postgres.ts';
export { PrivateRedis, PrivateRedisCluster, waitFor } from './redis.ts';

export function redisUrl(): string {
  return inject('redisUrl');
}

export function redisClusterNodes(): { host: string; port: number }[] {
  return inject('redisClusterNodes');
}

/** A key prefix unique to this run and call, e.g. `tgtest:1a2b3c4d:9f8e:`. */
export function keyPrefix(): string {
  return `tgtest:${inject('runId')}:${randomBytes(3).toString('hex')}:`;
}

/** A new empty database on the run's PostgreSQL server, dropped when the run ends. */
export async function freshDatabase(): Promise<string> {
  return createDatabase(
    inject('postgresAdminUrl'),
    `tg_${inject('runId')}_${randomBytes(4).toString('hex')}`,
  );
}

/** A new temporary directory (`<prefix>…`), removed by `dispose`. */
export function scratchDir(prefix = 'tollgate-test-'): { path: string; dispose(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, dispose: () => rmSync(path, { recursive: true, force: true }) };
}
