import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from './ports.ts';

const run = promisify(execFile);

/** Data directories of the servers this process started and has not stopped: see `running` in redis.ts. */
const running = new Set<string>();
process.once('exit', () => {
  for (const data of running) {
    spawnSync(...asServerUser(join(binDir(), 'pg_ctl'), ['-D', data, '-m', 'immediate', 'stop']), {
      stdio: 'ignore',
    });
  }
});

function binDir(): string {
  try {
    return execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim();
  } catch {
    const root = '/usr/lib/postgresql';
    const versions = existsSync(root) ? readdirSync(root).sort((a, b) => Number(b) - Number(a)) : [];
    if (versions.length === 0)
      throw new Error('PostgreSQL binaries not found (install Debian package postgresql)');
    return join(root, versions[0]!, 'bin');
  }
}

/** PostgreSQL refuses to run as root, so as root the server runs as the `postgres` user. */
function asServerUser(command: string, args: string[]): [string, string[]] {
  return process.getuid?.() === 0 ? ['runuser', ['-u', 'postgres', '--', command, ...args]] : [command, args];
}

/** A PostgreSQL cluster this test run created in a temporary directory on a loopback port. */
export class PrivatePostgres {
  private constructor(
    readonly port: number,
    private readonly dir: string,
  ) {}

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  /** The postmaster's process id (its backends are its children), for CPU accounting. */
  get pid(): number {
    return Number(readFileSync(join(this.dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
  }

  static async start(): Promise<PrivatePostgres> {
    const bin = binDir();
    const dir = mkdtempSync(join(tmpdir(), 'tollgate-pg-'));
    if (process.getuid?.() === 0) {
      const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }));
      const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }));
      chownSync(dir, uid, gid);
    }
    const data = join(dir, 'data');
    await run(
      ...asServerUser(join(bin, 'initdb'), [
        '-D',
        data,
        '-U',
        'postgres',
        '-A',
        'trust',
        '--no-sync',
        '-E',
        'UTF8',
      ]),
    );
    const port = await freePort();
    const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300`;
    await run(
      ...asServerUser(join(bin, 'pg_ctl'), [
        '-D',
        data,
        '-o',
        options,
        '-l',
        join(dir, 'server.log'),
        '-w',
        'start',
      ]),
    );
    running.add(data);
    return new PrivatePostgres(port, dir);
  }

  async dispose(): Promise<void> {
    running.delete(join(this.dir, 'data'));
    await run(
      ...asServerUser(join(binDir(), 'pg_ctl'), [
        '-D',
        join(this.dir, 'data'),
        '-m',
        'immediate',
        '-w',
        'stop',
      ]),
    ).catch(() => undefined);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Creates a database of this run's own on the server at `adminUrl` and returns its URL. */
export async function createDatabase(adminUrl: string, name: string): Promise<string> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE "${name}"`);
  } finally {
    await client.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Drops a database this run created (never one it did not). */
export async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  } finally {
    await client.end();
  }
}
