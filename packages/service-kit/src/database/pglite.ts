import { PGliteIdempotencyStore } from 'tollgate/postgres';
import { type Database, migrationsOf, type ServiceSchema, type Transaction } from './database.ts';
import { PGliteSession } from './pglite-session.ts';
import { PGliteThread } from './pglite-thread.ts';
import { TurnQueue } from './turn-queue.ts';

/**
 * The embedded default: PGlite in `dataDir` (durable across restarts), run by a worker thread
 * so its work never blocks the event loop (replays, limits and accepts go on while it runs).
 * PGlite is one connection: transactions take turns on the main thread's queue, their
 * statements sent as messages between an explicit BEGIN (sent with the first of them) and
 * COMMIT or ROLLBACK.
 */
export async function openPGlite(dataDir: string, schema: ServiceSchema): Promise<Database> {
  const thread = await PGliteThread.start(dataDir);
  const queue = new TurnQueue();
  const outside = new PGliteSession(thread, queue);
  // The session outside any transaction, with PGlite's `transaction(fn)`: the store runs its
  // migrations in transactions of the queue.
  const home = Object.assign(outside, {
    transaction: <T>(work: (tx: PGliteSession) => Promise<T>) => transaction(work),
  });
  const store = new PGliteIdempotencyStore({ db: home });

  /**
   * `work` in one transaction, holding the queue's turn until its COMMIT or ROLLBACK has been
   * sent: the worker runs statements in order, so the next turn may send behind it while this
   * one waits for the COMMIT's answer.
   */
  async function transaction<T>(work: (tx: PGliteSession) => Promise<T>): Promise<T> {
    const { result, committed } = await queue.exclusive(async () => {
      // BEGIN goes with the transaction's first statement (see PGliteSession).
      const tx = new PGliteSession(thread, undefined);
      try {
        const result = await work(tx);
        return { result, committed: tx.end(true) };
      } catch (error) {
        // The statement's own failure is the one to report, not a ROLLBACK's on a dead worker.
        tx.end(false).catch(() => undefined);
        throw error;
      }
    });
    await committed;
    return result;
  }

  const database: Database = {
    kind: 'pglite',
    async query<Row>(text: string, params: readonly unknown[] = []) {
      return (await outside.query<Row>(text, [...params])).rows;
    },
    idempotency: store,
    transaction: (work) =>
      transaction((tx) => {
        const bound: Transaction = {
          query: async <Row>(text: string, params: readonly unknown[] = []) =>
            (await tx.query<Row>(text, [...params])).rows,
          bind: (tiered) => tiered.within(tx),
        };
        return work(bound);
      }),
    async migrate() {
      await store.migrate();
      await store.migrate(migrationsOf(schema));
    },
    close: () => queue.exclusive(() => thread.close()),
  };
  return database;
}
