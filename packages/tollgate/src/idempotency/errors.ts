import { ErrorCode } from '../codes.ts';
import { TollgateError } from '../errors.ts';

/** The codes of an {@link IdempotencyKeyError}: what an adapter maps to a 400 problem+json. */
export type IdempotencyKeyErrorCode =
  | typeof ErrorCode.IdempotencyKeyMissing
  | typeof ErrorCode.IdempotencyKeyMalformed;

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
    super(ErrorCode.StoreReply, message, options);
  }
}

/** The codes of a {@link FingerprintError}: what an adapter maps to a 400 problem+json. */
export type FingerprintErrorCode =
  | typeof ErrorCode.FingerprintDepth
  | typeof ErrorCode.FingerprintNumber
  | typeof ErrorCode.FingerprintNotJson;

const fingerprintCodes: ReadonlySet<unknown> = new Set<FingerprintErrorCode>([
  ErrorCode.FingerprintDepth,
  ErrorCode.FingerprintNumber,
  ErrorCode.FingerprintNotJson,
]);

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
