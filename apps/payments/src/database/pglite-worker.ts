/**
 * The PGlite worker: owns the embedded database in `workerData.dataDir` and runs the statements
 * the main thread sends, one at a time, in the order they arrive. PGlite's WebAssembly runs here,
 * so the service's event loop keeps accepting and answering while a statement runs. Whatever
 * transaction is open belongs to the main thread's queue (`pglite-thread.ts`): BEGIN, COMMIT and
 * ROLLBACK arrive as statements like any other.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';
import type { StatementFailure, StatementReply, StatementRequest, WorkerStart } from './pglite-messages.ts';

const port = parentPort!;
const { dataDir } = workerData as WorkerStart;
const db = await PGlite.create(dataDir);

port.on('message', (request: StatementRequest) => {
  answer(request).then((reply) => port.postMessage(reply));
});
port.postMessage({ ready: true });

/** Statements run in arrival order: each waits for the one before it (one connection). */
let previous: Promise<unknown> = Promise.resolve();

function answer(request: StatementRequest): Promise<StatementReply> {
  const run = previous.then(() => execute(request));
  previous = run;
  return run;
}

async function execute(request: StatementRequest): Promise<StatementReply> {
  const { id } = request;
  try {
    if (request.kind !== 'close' && request.begin) await db.exec('BEGIN');
    switch (request.kind) {
      case 'query': {
        const { rows, fields, affectedRows } = await db.query(request.text, [...request.params]);
        return { id, ok: true, results: [{ rows, fields, affectedRows }] };
      }
      case 'exec': {
        const results = await db.exec(request.text);
        return {
          id,
          ok: true,
          results: results.map(({ rows, fields, affectedRows }) => ({ rows, fields, affectedRows })),
        };
      }
      case 'close':
        await db.close();
        return { id, ok: true, results: [] };
    }
  } catch (error) {
    return { id, ok: false, failure: failureOf(error) };
  }
}

function failureOf(error: unknown): StatementFailure {
  const fields = (error ?? {}) as { code?: unknown; detail?: unknown; constraint?: unknown };
  const text = (value: unknown) => (typeof value === 'string' ? value : undefined);
  return {
    message: error instanceof Error ? error.message : String(error),
    code: text(fields.code),
    detail: text(fields.detail),
    constraint: text(fields.constraint),
  };
}
