import type { ErrorCode } from './codes.ts';

/**
 * The base of every fault tollgate throws. Expected outcomes (limited, replayed, conflict)
 * are results, never errors; an error means something is broken or misused.
 * `code` is one of {@link ErrorCode}, stable across releases: match on it, never on `message`.
 */
export class TollgateError extends Error {
  override readonly name: string = 'TollgateError';

  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
