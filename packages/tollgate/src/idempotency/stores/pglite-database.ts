import type { PGliteInterface, Transaction } from '@electric-sql/pglite';
import type { SqlDatabase, SqlScriptSession } from './sql-session.ts';

/** PGlite (or one of its transactions, which runs a migration inside itself) as a {@link SqlDatabase}. */
export function pgliteDatabase(db: PGliteInterface | Transaction): SqlDatabase {
  const session = (target: PGliteInterface | Transaction): SqlScriptSession => ({
    async query<Row>(_name: string, text: string, params: readonly unknown[]) {
      return (await target.query<Row>(text, [...params])).rows;
    },
    async exec(script: string) {
      await target.exec(script);
    },
  });
  return {
    ...session(db),
    transaction: (fn) => ('transaction' in db ? db.transaction((tx) => fn(session(tx))) : fn(session(db))), // already inside one
  };
}
