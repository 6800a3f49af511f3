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

/** Stable codes of {@link FingerprintError}: what an adapter maps to a 400 problem+json. */
export const FingerprintErrorCode = {
  /** Arrays and objects nest deeper than `MAX_JSON_DEPTH`. */
  Depth: 'FINGERPRINT_DEPTH',
  /** A number outside the range of a 64-bit double (`1e400` parses as `Infinity`), or `NaN`. */
  Number: 'FINGERPRINT_NUMBER',
  /** A value JSON cannot hold: a function, symbol, BigInt, `undefined` in an array, a cycle. */
  NotJson: 'FINGERPRINT_NOT_JSON',
} as const;
export type FingerprintErrorCode = (typeof FingerprintErrorCode)[keyof typeof FingerprintErrorCode];

/**
 * Why a request body cannot be fingerprinted: the client's mistake, to be answered with a 400,
 * never a fault of the server. The message says where and what to change; it names member names
 * (cut short), never the offending value.
 */
export class FingerprintError extends TollgateError {
  override readonly name = 'FingerprintError';

  constructor(
    override readonly code: FingerprintErrorCode,
    message: string,
    /** Where in the body, as an RFC 6901 JSON Pointer (`/items/0/amount`; `''` is the whole body). */
    readonly pointer: string,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
  }
}

const fingerprintCodes: ReadonlySet<unknown> = new Set(Object.values(FingerprintErrorCode));

/**
 * Whether `error` is a {@link FingerprintError}, also one from another copy of tollgate.
 *
 * @example
 * try { print = fingerprint(input); }
 * catch (error) { if (isFingerprintError(error)) return badRequest(error.code, error.message); throw error; }
 */
export function isFingerprintError(error: unknown): error is FingerprintError {
  return error instanceof Error && fingerprintCodes.has((error as { code?: unknown }).code);
}
