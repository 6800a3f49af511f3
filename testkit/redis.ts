import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { freePort } from './ports.ts';

const run = promisify(execFile);

/**
 * Every redis-server this process started and has not stopped. A test that fails before its
 * `dispose()` would otherwise leave its server running after the run: they all go when the
 * process exits.
 */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** A redis-server this test run started on a loopback port; it keeps nothing on disk. */
export class PrivateRedis {
  private child: ChildProcess | undefined;

  private constructor(
    readonly port: number,
    private readonly extraArgs: string[],
    private readonly dir: string,
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** The server's process id while it runs, for CPU accounting. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  static async start(options: { port?: number; args?: string[] } = {}): Promise<PrivateRedis> {
    const port = options.port ?? (await freePort());
    const dir = mkdtempSync(join(tmpdir(), 'tollgate-redis-'));
    const server = new PrivateRedis(port, options.args ?? [], dir);
    await server.start();
    return server;
  }

  /** Starts (or restarts, empty) the server on the same port. */
  async start(): Promise<void> {
    if (this.child) return;
    const args = [
      '--port',
      String(this.port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      this.dir,
      '--daemonize',
      'no',
      '--loglevel',
      'warning',
      ...this.extraArgs,
    ];
    const child = spawn('redis-server', args, { stdio: 'ignore' });
    this.child = child;
    running.add(child);
    child.once('exit', () => {
      running.delete(child);
      if (this.child === child) this.child = undefined;
    });
    await waitFor(async () => {
      const client = new Redis(this.port, '127.0.0.1', {
        lazyConnect: true,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
      });
      client.on('error', () => undefined);
      try {
        await client.connect();
        return (await client.ping()) === 'PONG';
      } finally {
        client.disconnect();
      }
    }, `redis-server on port ${this.port}`);
  }

  /** Stops the server the way an outage would: SIGKILL, no goodbye to clients. */
  async kill(): Promise<void> {
    await this.signal('SIGKILL');
  }

  /** Stops the server cleanly. */
  async stop(): Promise<void> {
    await this.signal('SIGTERM');
  }

  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async signal(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (!child) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    await exited;
    this.child = undefined;
  }
}

/** Three masters with `--cluster-enabled yes`, joined by `redis-cli --cluster create`. */
export class PrivateRedisCluster {
  private constructor(readonly nodes: PrivateRedis[]) {}

  get addresses(): { host: string; port: number }[] {
    return this.nodes.map((node) => ({ host: '127.0.0.1', port: node.port }));
  }

  static async start(masters = 3): Promise<PrivateRedisCluster> {
    const nodes: PrivateRedis[] = [];
    for (let i = 0; i < masters; i++) {
      const port = await freePort(10_000);
      nodes.push(
        await PrivateRedis.start({
          port,
          args: [
            '--cluster-enabled',
            'yes',
            '--cluster-config-file',
            `nodes-${port}.conf`,
            '--cluster-node-timeout',
            '2000',
          ],
        }),
      );
    }
    const cluster = new PrivateRedisCluster(nodes);
    await run('redis-cli', [
      '--cluster',
      'create',
      ...nodes.map((n) => `127.0.0.1:${n.port}`),
      '--cluster-replicas',
      '0',
      '--cluster-yes',
    ]);
    await waitFor(async () => {
      for (const node of nodes) {
        const { stdout } = await run('redis-cli', ['-p', String(node.port), 'cluster', 'info']);
        if (!stdout.includes('cluster_state:ok')) return false;
      }
      return true;
    }, 'redis cluster state ok');
    return cluster;
  }

  async dispose(): Promise<void> {
    await Promise.all(this.nodes.map((node) => node.dispose()));
  }
}

export async function waitFor(
  check: () => Promise<boolean>,
  what: string,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${what}`, { cause: lastError });
}
