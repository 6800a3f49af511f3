/**
 * The little a SQL store needs from a PostgreSQL connection, pool or transaction: run one
 * parameterised statement and hand back its rows. `pg` and PGlite each get a small adapter.
 */
export interface SqlSession {
  /** `name` identifies the statement text, so a driver may prepare it once per connection. */
  query<Row>(name: string, text: string, params: readonly unknown[]): Promise<Row[]>;
}

/** A session that can also run a multi-statement script and open transactions (for migrations). */
export interface SqlDatabase extends SqlSession {
  /** Runs `fn` inside BEGIN … COMMIT, rolling back if it throws. */
  transaction<T>(fn: (tx: SqlScriptSession) => Promise<T>): Promise<T>;
}

/** A transaction that can run a whole `.sql` file. */
export interface SqlScriptSession extends SqlSession {
  exec(script: string): Promise<void>;
}
