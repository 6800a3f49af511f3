import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { PrivatePostgres } from './postgres.ts';
import { PrivateRedis, PrivateRedisCluster } from './redis.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    runId: string;
    redisUrl: string;
    redisClusterNodes: { host: string; port: number }[];
    postgresAdminUrl: string;
  }
}

/**
 * Real servers for the whole run: private ones started from the machine's binaries, or the
 * external ones named by TOLLGATE_TEST_REDIS_URL / TOLLGATE_TEST_REDIS_CLUSTER (host:port,…) /
 * TOLLGATE_TEST_DATABASE_URL, used only under this run's key prefix and databases.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const runId = randomBytes(4).toString('hex');
  const disposers: (() => Promise<void>)[] = [];
  const privateServer = async <T extends { dispose(): Promise<void> }>(starting: Promise<T>): Promise<T> => {
    const server = await starting;
    disposers.push(() => server.dispose());
    return server;
  };

  const redisUrl: string =
    process.env.TOLLGATE_TEST_REDIS_URL || (await privateServer(PrivateRedis.start())).url;

  const clusterNodes = process.env.TOLLGATE_TEST_REDIS_CLUSTER
    ? process.env.TOLLGATE_TEST_REDIS_CLUSTER.split(',').map((address) => {
        const [host, port] = address.split(':');
        return { host: host!, port: Number(port) };
      })
    : (await privateServer(PrivateRedisCluster.start())).addresses;

  const postgresAdminUrl: string =
    process.env.TOLLGATE_TEST_DATABASE_URL || (await privateServer(PrivatePostgres.start())).url;

  project.provide('runId', runId);
  project.provide('redisUrl', redisUrl);
  project.provide('redisClusterNodes', clusterNodes);
  project.provide('postgresAdminUrl', postgresAdminUrl);

  return async () => {
    await dropRunDatabases(postgresAdminUrl, runId).catch(() => undefined);
    for (const dispose of disposers.reverse()) await dispose();
  };
}

/** Drops the databases this run created (named tg_<runId>_…), and nothing else. */
async function dropRunDatabases(adminUrl: string, runId: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ datname: string }>(
      'SELECT datname FROM pg_database WHERE datname LIKE $1',
      [`tg\\_${runId}\\_%`],
    );
    for (const { datname } of rows) await client.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
  } finally {
    await client.end();
  }
}
