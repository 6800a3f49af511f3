import type pg from 'pg';
import type { SqlDatabase, SqlScriptSession } from './sql-session.ts';

/**
 * What the store needs of a connection to run its statements on: a `pg` client (the caller's
 * transaction), or anything that runs a `pg` query config on one — e.g. a transaction that
 * connects only before its first statement.
 */
export interface PgQueryable {
  query(config: pg.QueryConfig): Promise<pg.QueryResult>;
}

/**
 * `pg` as a {@link SqlDatabase}: a pool's transactions take a connection of their own; a single
 * connection runs them on itself. `prepared` names each statement, so a connection prepares it once.
 */
export function pgDatabase(queryable: pg.Pool | PgQueryable, prepared: boolean): SqlDatabase {
  const session = (target: pg.Pool | PgQueryable): SqlScriptSession => ({
    async query<Row>(name: string, text: string, values: readonly unknown[]) {
      const config = prepared ? { name, text, values: [...values] } : { text, values: [...values] };
      return (await target.query(config)).rows as Row[];
    },
    async exec(script: string) {
      await target.query({ text: script });
    },
  });
  return {
    ...session(queryable),
    async transaction(fn) {
      const client = 'totalCount' in queryable ? await queryable.connect() : queryable;
      try {
        await client.query({ text: 'BEGIN' });
        const result = await fn(session(client));
        await client.query({ text: 'COMMIT' });
        return result;
      } catch (error) {
        await client.query({ text: 'ROLLBACK' }).catch(() => undefined);
        throw error;
      } finally {
        if ('release' in client && typeof client.release === 'function') client.release();
      }
    },
  };
}
