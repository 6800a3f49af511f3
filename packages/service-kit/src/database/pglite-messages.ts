/**
 * What the main thread and the PGlite worker say to each other (see `pglite-thread.ts`). Every
 * request carries an id; the worker answers each one, in the order it received them.
 */

/**
 * One statement (extended protocol, parameters bound) or a script of several (simple protocol).
 * `begin`: the first statement of a transaction — the worker runs BEGIN, then the statement
 * only if BEGIN succeeded (one message instead of two).
 */
export type StatementRequest =
  | {
      readonly id: number;
      readonly kind: 'query';
      readonly text: string;
      readonly params: readonly unknown[];
      readonly begin: boolean;
    }
  | { readonly id: number; readonly kind: 'exec'; readonly text: string; readonly begin: boolean }
  | { readonly id: number; readonly kind: 'close' };

/** A PostgreSQL error as it crosses the thread boundary (fields of PGlite's `DatabaseError`). */
export interface StatementFailure {
  readonly message: string;
  /** SQLSTATE, when PostgreSQL raised it. */
  readonly code: string | undefined;
  readonly detail: string | undefined;
  readonly constraint: string | undefined;
}

/** The worker's answer to one request: the rows of each statement run, or the failure. */
export type StatementReply =
  | { readonly id: number; readonly ok: true; readonly results: readonly StatementResult[] }
  | { readonly id: number; readonly ok: false; readonly failure: StatementFailure };

/** One statement's rows and what PGlite reports about it. */
export interface StatementResult {
  readonly rows: unknown[];
  readonly fields: { name: string; dataTypeID: number }[];
  readonly affectedRows?: number | undefined;
}

/** What the worker is started with (`workerData`). */
export interface WorkerStart {
  readonly dataDir: string;
}
