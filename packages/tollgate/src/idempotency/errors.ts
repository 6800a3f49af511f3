import { TollgateError } from '../errors.ts';

/** Stable codes of {@link IdempotencyKeyError}: what an adapter maps to a 400 problem+json. */
export const IdempotencyKeyErrorCode = {
  /** The route requires an `Idempotency-Key` and the request has none. */
  Missing: 'IDEMPOTENCY_KEY_MISSING',
  /** The header is there but is not a structured-field string or bare token of 16–255 `[A-Za-z0-9_-]`. */
  Malformed: 'IDEMPOTENCY_KEY_MALFORMED',
} as const;
export type IdempotencyKeyErrorCode = (typeof IdempotencyKeyErrorCode)[keyof typeof IdempotencyKeyErrorCode];

/**
 * Why an `Idempotency-Key` header cannot be used. It is returned inside a result, not thrown:
 * a bad key is the client's mistake, answered with a 400, and the message never repeats the key.
 */
export class IdempotencyKeyError extends TollgateError {
  override readonly name = 'IdempotencyKeyError';

  constructor(
    override readonly code: IdempotencyKeyErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
  }
}

/** Thrown when a store answers something its contract does not allow (a fault, not an outcome). */
export class IdempotencyStoreError extends TollgateError {
  override readonly name = 'IdempotencyStoreError';

  constructor(message: string, options?: { cause?: unknown }) {
    super('IDEMPOTENCY_STORE_FAULT', message, options);
  }
}
