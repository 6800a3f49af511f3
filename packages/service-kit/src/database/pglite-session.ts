import type { Transaction as PGliteTransaction, Results } from '@electric-sql/pglite';
import type { PGliteThread } from './pglite-thread.ts';
import type { TurnQueue } from './turn-queue.ts';

/**
 * The worker's database as PGlite's own `Transaction` surface (what `PGliteIdempotencyStore`
 * and the service call): `query`, `sql`, `exec`, and `rollback` for a transaction. Either
 * "outside" (each statement takes a turn of the queue to be sent, so it never lands in another
 * request's transaction) or one open transaction (which holds the queue's turn, so its
 * statements are sent straight away).
 */
export class PGliteSession implements PGliteTransaction {
  private over = false;
  /** Inside a transaction: whether BEGIN has been sent (with the first statement). */
  private begun = false;

  constructor(
    private readonly thread: PGliteThread,
    /** The queue a statement outside any transaction waits on; absent inside one. */
    private readonly outside: TurnQueue | undefined,
  ) {}

  get closed(): boolean {
    return this.over;
  }

  query<Row>(text: string, params: unknown[] = []): Promise<Results<Row>> {
    return this.send((begin) => this.thread.query(text, params, begin) as Promise<Results<Row>>);
  }

  sql<Row>(strings: TemplateStringsArray, ...params: unknown[]): Promise<Results<Row>> {
    const text = strings.reduce((sql, part, index) => `${sql}$${index}${part}`);
    return this.query<Row>(text, params);
  }

  async exec(script: string): Promise<Results[]> {
    return [...(await this.send((begin) => this.thread.exec(script, begin)))] as Results[];
  }

  /** Rolls the open transaction back; its statements are refused from then on. */
  async rollback(): Promise<void> {
    if (this.outside !== undefined) throw new Error('rollback() outside a transaction');
    await this.end(false);
  }

  /** LISTEN needs notifications from the worker, which the service never uses: refused. */
  listen(): Promise<never> {
    return Promise.reject(new Error('LISTEN is not available on the PGlite worker'));
  }

  /**
   * Ends this transaction: COMMIT when `commit`, else ROLLBACK — if it ever began: one that ran
   * no statement never sent BEGIN either.
   */
  async end(commit: boolean): Promise<void> {
    if (this.over) return;
    this.over = true;
    // A statement like any other: prepared once by the worker, not parsed again each time.
    if (this.begun) await this.thread.query(commit ? 'COMMIT' : 'ROLLBACK', []);
  }

  /** Sends a statement; inside a transaction, the first one carries its BEGIN. */
  private send<T>(statement: (begin: boolean) => Promise<T>): Promise<T> {
    if (this.over) return Promise.reject(new Error('this transaction is over'));
    if (this.outside !== undefined) return this.outside.next(() => statement(false));
    const begin = !this.begun;
    this.begun = true;
    return statement(begin);
  }
}
