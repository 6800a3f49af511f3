/**
 * The PGlite worker: owns the embedded database in `workerData.dataDir` and runs the statements
 * the main thread sends, one at a time, in the order they arrive. PGlite's WebAssembly runs here,
 * so the service's event loop keeps accepting and answering while a statement runs. Whatever
 * transaction is open belongs to the main thread's queue (`pglite-thread.ts`): BEGIN, COMMIT and
 * ROLLBACK arrive as statements like any other.
 *
 * Statements are spoken in PostgreSQL's wire protocol directly rather than through `db.query`,
 * which parses, describes and plans every statement each time: each distinct text is parsed once
 * as a named prepared statement (its parameter types and columns kept from that one Describe),
 * then every later run is one Bind, Execute and Sync in a single call into PGlite. Results are
 * parsed by PGlite's own `parseResults` with its own type parsers, so rows are what `db.query`
 * returns. Durability is PGlite's: a statement outside a transaction commits at its Sync, and a
 * COMMIT is answered once PGlite has written it, as with `db.query`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite, parse, protocol, type Results } from '@electric-sql/pglite';
import type {
  StatementFailure,
  StatementReply,
  StatementRequest,
  StatementResult,
  WorkerStart,
} from './pglite-messages.ts';

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
    const results =
      request.kind === 'query'
        ? [await query(request.text, request.params, request.begin)]
        : request.kind === 'exec'
          ? await exec(request.text, request.begin)
          : await close();
    return { id, ok: true, results };
  } catch (error) {
    return { id, ok: false, failure: failureOf(error) };
  } finally {
    // What `db.query` and `db.exec` do after each statement outside PGlite's own `transaction`
    // (a no-op on Node's filesystem, whose writes go straight to `dataDir`).
    if (request.kind !== 'close') await db.syncToFs();
  }
}

async function close(): Promise<StatementResult[]> {
  await db.close();
  return [];
}

type BackendMessage = Awaited<ReturnType<PGlite['execProtocolStream']>>[number];

const { serialize } = protocol;
const sync = serialize.sync();
const run = serialize.execute({});
const nothing = new Uint8Array(0);

/**
 * A statement PostgreSQL has parsed once, under `name`: the types of its parameters, and its
 * columns (the RowDescription Describe answered; none for a statement that returns no rows).
 */
interface Prepared {
  readonly name: string;
  readonly paramTypes: readonly number[];
  readonly columns: BackendMessage | undefined;
}

/**
 * Prepared statements by text. The service's statements are a fixed set (its `.sql` files and
 * tollgate's); past `preparedLimit` distinct texts, a statement is parsed unnamed each time.
 */
const prepared = new Map<string, Prepared>();
const preparedLimit = 256;
let preparedCount = 0;
/** SQLSTATEs after which a prepared statement is parsed afresh: its result type changed, or it is gone. */
const stalePrepared = new Set(['0A000', '26000']);
/** What a statement that leaves every table's shape as it was reports (its command tag). */
const dataCommands = new Set([
  'SELECT',
  'INSERT',
  'UPDATE',
  'DELETE',
  'MERGE',
  'BEGIN',
  'COMMIT',
  'ROLLBACK',
]);

/** One statement with parameters bound (extended protocol), as `db.query` runs it. */
async function query(text: string, params: readonly unknown[], withBegin: boolean): Promise<StatementResult> {
  let result: Results;
  try {
    result = await bindAndExecute(text, params, withBegin);
  } catch (error) {
    if (stalePrepared.has((error as { code?: string }).code ?? '')) await forgetPrepared();
    throw error;
  }
  if (!dataCommands.has(result.command ?? '')) await forgetPrepared();
  const { rows, fields, affectedRows } = result;
  return { rows, fields, affectedRows };
}

/** Runs `text` by its prepared statement (parsing it first if needed), BEGIN first if asked. */
async function bindAndExecute(
  text: string,
  params: readonly unknown[],
  withBegin: boolean,
): Promise<Results> {
  // BEGIN goes in the same call as the statement (then the statement runs only if BEGIN did).
  let head = withBegin ? await parameterless('BEGIN') : nothing;
  let statement = prepared.get(text);
  if (statement === undefined) {
    statement = await prepare(text, head);
    head = nothing;
  }
  const { name, paramTypes, columns } = statement;
  const values = params.map((param, index) => serialized(param, paramTypes[index]!));
  const messages = await exchange([head, serialize.bind({ statement: name, values }), run, sync]);
  // The columns Describe would answer again, where `db.query` has them: before the rows, after
  // BEGIN's own result if BEGIN was sent. The statement's result is then the last.
  if (columns !== undefined) {
    const start =
      head === nothing ? 0 : messages.findIndex((message) => message.name === 'commandComplete') + 1;
    messages.splice(start, 0, columns);
  }
  return parse.parseResults(messages, db.parsers).at(-1)!;
}

/** Parses `text` (after running `head`, in the same call) and keeps it as a prepared statement. */
async function prepare(text: string, head: Uint8Array): Promise<Prepared> {
  const name = prepared.size < preparedLimit ? `tollgate_worker_${++preparedCount}` : '';
  const described = await exchange([
    head,
    serialize.parse({ name, text }),
    serialize.describe({ type: 'S', name }),
    sync,
  ]);
  const statement = {
    name,
    paramTypes: parse.parseDescribeStatementResults(described),
    columns: described.find((message) => message.name === 'rowDescription'),
  };
  if (name !== '') prepared.set(text, statement);
  return statement;
}

/** Bind and Execute of a statement without parameters, prepared (on its own) at its first use. */
async function parameterless(text: string): Promise<Uint8Array> {
  const { name } = prepared.get(text) ?? (await prepare(text, nothing));
  return Buffer.concat([serialize.bind({ statement: name }), run]);
}

/** A script of statements without parameters (simple protocol), as `db.exec` runs it. */
async function exec(script: string, withBegin: boolean): Promise<StatementResult[]> {
  if (withBegin) await exchange([serialize.query('BEGIN'), sync]);
  try {
    const results = parse.parseResults(await exchange([serialize.query(script), sync]), db.parsers);
    return results.map(({ rows, fields, affectedRows }) => ({ rows, fields, affectedRows }));
  } finally {
    // A script other than a transaction's end may change a table a prepared statement reads.
    if (script !== 'COMMIT' && script !== 'ROLLBACK') await forgetPrepared();
  }
}

/**
 * Deallocates every prepared statement, after a statement that may have changed the shape of a
 * table: PostgreSQL replans a prepared statement itself, but refuses to run one whose result
 * columns changed ("cached plan must not change result type"), which `db.query` never does.
 */
async function forgetPrepared(): Promise<void> {
  if (prepared.size === 0) return;
  const closes = [...prepared.values()].map(({ name }) => serialize.close({ type: 'S', name }));
  prepared.clear();
  // Close needs no transaction: it runs even inside a failed one.
  await exchange([...closes, sync]);
}

/** A parameter as `db.query` sends it: by the serializer of the type PostgreSQL inferred, else as text. */
function serialized(param: unknown, type: number): string | null {
  if (param === null || param === undefined) return null;
  const serializer = db.serializers[type];
  return serializer ? serializer(param) : (param as { toString(): string }).toString();
}

/** Sends protocol messages in one call into PGlite; throws the first error PostgreSQL reported. */
function exchange(messages: Uint8Array[]) {
  return db.execProtocolStream(Buffer.concat(messages), { syncToFs: false });
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
