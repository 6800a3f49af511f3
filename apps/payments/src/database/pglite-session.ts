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

  constructor(
    private readonly thread: PGliteThread,
    /** The queue a statement outside any transaction waits on; absent inside one. */
    private readonly outside: TurnQueue | undefined,
  ) {}

  get closed(): boolean {
    return this.over;
  }

  query<Row>(text: string, params: unknown[] = []): Promise<Results<Row>> {
    return this.send(() => this.thread.query(text, params) as Promise<Results<Row>>);
  }

  sql<Row>(strings: TemplateStringsArray, ...params: unknown[]): Promise<Results<Row>> {
    const text = strings.reduce((sql, part, index) => `${sql}$${index}${part}`);
    return this.query<Row>(text, params);
  }

  async exec(script: string): Promise<Results[]> {
    return [...(await this.send(() => this.thread.exec(script)))] as Results[];
  }

  /** Rolls the open transaction back; its statements are refused from then on. */
  async rollback(): Promise<void> {
    if (this.outside !== undefined) throw new Error('rollback() outside a transaction');
    if (this.over) return;
    this.over = true;
    await this.thread.exec('ROLLBACK');
  }

  /** LISTEN needs notifications from the worker, which the service never uses: refused. */
  listen(): Promise<never> {
    return Promise.reject(new Error('LISTEN is not available on the PGlite worker'));
  }

  /** Ends this transaction: COMMIT when `commit` and still open, else ROLLBACK. */
  async end(commit: boolean): Promise<void> {
    if (this.over) return;
    this.over = true;
    await this.thread.exec(commit ? 'COMMIT' : 'ROLLBACK');
  }

  private send<T>(statement: () => Promise<T>): Promise<T> {
    if (this.over) return Promise.reject(new Error('this transaction is over'));
    return this.outside === undefined ? statement() : this.outside.next(statement);
  }
}
