import { Worker } from 'node:worker_threads';
import { lockDataDir } from './data-dir-lock.ts';
import type {
  StatementFailure,
  StatementReply,
  StatementRequest,
  StatementResult,
  WorkerStart,
} from './pglite-messages.ts';
import { DatabaseUnavailableError } from './unavailable.ts';

/**
 * The loader the service itself runs with, so the worker reads TypeScript the same way; and the
 * process's `--cpu-prof*` flags, so `node --cpu-prof` profiles PGlite's thread too.
 */
const workerFlags = [
  '--conditions=tollgate-source',
  '--import',
  'tsx',
  ...process.execArgv.filter((flag) => flag.startsWith('--cpu-prof')),
];

/** A statement PostgreSQL (inside the worker's PGlite) refused, with its SQLSTATE. */
export class PGliteStatementError extends Error {
  readonly code: string | undefined;
  readonly detail: string | undefined;
  readonly constraint: string | undefined;

  constructor(failure: StatementFailure) {
    super(failure.message);
    this.name = 'PGliteStatementError';
    this.code = failure.code;
    this.detail = failure.detail;
    this.constraint = failure.constraint;
  }
}

type Pending = { resolve(results: readonly StatementResult[]): void; reject(error: Error): void };

/**
 * PGlite in a `worker_threads` Worker that owns the database directory: the main thread sends
 * statements as messages and gets rows back, so PGlite's work never blocks the event loop.
 * Statements run in the order they are sent; which of them form a transaction is the caller's
 * business (see `TurnQueue`). The worker ends with {@link close} or with the process.
 */
export class PGliteThread {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private ended: Error | undefined;

  private constructor(
    private readonly worker: Worker,
    private readonly release: () => void,
  ) {
    worker.on('message', (reply: StatementReply) => {
      const waiting = this.pending.get(reply.id);
      if (waiting === undefined) return;
      this.pending.delete(reply.id);
      if (reply.ok) waiting.resolve(reply.results);
      else waiting.reject(new PGliteStatementError(reply.failure));
    });
    const fail = (cause: unknown) => {
      this.ended ??= new DatabaseUnavailableError('the PGlite worker has stopped', { cause });
      for (const waiting of this.pending.values()) waiting.reject(this.ended);
      this.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`the PGlite worker exited with code ${code}`)));
  }

  /**
   * Locks `dataDir` for this process (created if missing; see `lockDataDir`), starts the
   * worker on it and waits until PGlite is open.
   * @throws {DataDirInUseError} while another live process holds the directory.
   */
  static async start(dataDir: string): Promise<PGliteThread> {
    const release = lockDataDir(dataDir);
    try {
      const start: WorkerStart = { dataDir };
      const worker = new Worker(new URL('./pglite-worker-entry.mjs', import.meta.url), {
        workerData: start,
        execArgv: workerFlags,
      });
      await new Promise<void>((resolve, reject) => {
        const failed = (error: unknown) => reject(error);
        worker.once('error', failed);
        worker.once('exit', (code) => reject(new Error(`the PGlite worker exited with code ${code}`)));
        worker.once('message', () => {
          worker.off('error', failed);
          worker.removeAllListeners('exit');
          resolve();
        });
      });
      return new PGliteThread(worker, release);
    } catch (error) {
      release();
      throw error;
    }
  }

  /** One parameterised statement; `begin`: BEGIN first (the first statement of a transaction). */
  async query(text: string, params: readonly unknown[], begin = false): Promise<StatementResult> {
    const [result] = await this.send({ kind: 'query', text, params, begin });
    return result!;
  }

  /** A script of one or more statements, without parameters; `begin` as for {@link query}. */
  exec(text: string, begin = false): Promise<readonly StatementResult[]> {
    return this.send({ kind: 'exec', text, begin });
  }

  /** Closes PGlite (flushing it to `dataDir`), ends the worker and unlocks the directory. */
  async close(): Promise<void> {
    if (this.ended === undefined) await this.send({ kind: 'close' }).catch(() => undefined);
    await this.worker.terminate();
    this.release();
  }

  private send(request: DistributiveOmit<StatementRequest, 'id'>): Promise<readonly StatementResult[]> {
    if (this.ended !== undefined) return Promise.reject(this.ended);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...request, id });
    });
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
