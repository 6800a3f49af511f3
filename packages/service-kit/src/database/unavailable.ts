import pg from 'pg';

/**
 * The database could not answer: unreachable, restarting, out of connections, or a statement
 * ended by one of the pool's timeouts. Retrying later may succeed; the request itself was fine.
 */
export class DatabaseUnavailableError extends Error {
  readonly code = 'ERR_DATABASE_UNAVAILABLE';
}

/**
 * SQLSTATEs that mean "not now" rather than "not this": connection exceptions (08), too many
 * connections (53300), shutdown or restart (57P01–57P03), statement timeout (57014), lock
 * timeout (55P03), idle-in-transaction timeout (25P03), serialization failure and deadlock (40…).
 */
function transient(sqlstate: string): boolean {
  return (
    sqlstate.startsWith('08') ||
    sqlstate.startsWith('40') ||
    sqlstate.startsWith('57P') ||
    ['53300', '57014', '55P03', '25P03'].includes(sqlstate)
  );
}

/**
 * What a failed `pg` call means for the request: an error the server answered with a data
 * SQLSTATE stays as it is (a bug to fix, a 500); anything else — the server's "not now", a
 * socket error, a connect timeout, a client-side query timeout, a pool that ended — becomes a
 * {@link DatabaseUnavailableError} with the original as its cause.
 */
export function unavailableOr(error: unknown): unknown {
  if (error instanceof DatabaseUnavailableError) return error;
  if (error instanceof pg.DatabaseError && !transient(error.code ?? '')) return error;
  return new DatabaseUnavailableError('the database is unavailable', { cause: error });
}

/** True when `error`, or an error in its `cause` chain, is a {@link DatabaseUnavailableError}. */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (let at = error, depth = 0; at instanceof Error && depth < 8; at = at.cause, depth++) {
    if (at instanceof DatabaseUnavailableError) return true;
  }
  return false;
}
