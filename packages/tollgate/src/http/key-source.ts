import { ErrorCode } from '../codes.ts';
import { valueAt } from '../dotted-path.ts';
import { IdempotencyKeyError, type IdempotencyKeyErrorCode } from '../idempotency/errors.ts';
import { type KeyParseResult, parseIdempotencyKey } from '../idempotency/key.ts';

/**
 * Where a route finds its idempotency key: a header (lower-case name), or a body field. With
 * `generate: true` a request without the header gets a key derived by the server from the
 * canonical request (its fingerprint) and kept under the caller's scope, so identical requests
 * of one principal share it and two principals never meet (their keys may be equal). It is
 * echoed to the client in the `Idempotency-Key` response header so it can reuse it.
 */
export type KeySource = { readonly header: string; readonly generate?: boolean } | { readonly body: string };

type Headers = Readonly<Record<string, string | readonly string[] | undefined>>;

/**
 * Reads the key from where the route says. A header goes through {@link parseIdempotencyKey}
 * (structured-field string or bare token of 16–255 `[A-Za-z0-9_-]`). A body field (dotted path,
 * e.g. `message.successful_payment.invoice_payload`) is a provider's identifier: any string or
 * integer of 1–255 characters, since it is only ever hashed into the scope.
 */
export function readKey(source: KeySource, headers: Headers, body: unknown): KeyParseResult {
  if ('header' in source) return parseIdempotencyKey(headers[source.header], headerName(source.header));
  const value = valueAt(body, source.body);
  if (value === undefined || value === null || value === '') {
    return refuse(
      ErrorCode.IdempotencyKeyMissing,
      `The request body has no "${source.body}" to use as its key.`,
    );
  }
  if (typeof value === 'number' && Number.isSafeInteger(value)) return { ok: true, key: String(value) };
  if (typeof value !== 'string' || value.length > 255) {
    return refuse(
      ErrorCode.IdempotencyKeyMalformed,
      `The body field "${source.body}" must be a string or integer of 1 to 255 characters.`,
    );
  }
  return { ok: true, key: value };
}

function refuse(code: IdempotencyKeyErrorCode, message: string): KeyParseResult {
  return { ok: false, error: new IdempotencyKeyError(code, message) };
}

/** Header names as people write them, by lower-case name (a route's few, made once). */
const headerNames = new Map<string, string>();

/** A header's name as people write it: `x-idempotency-key` → `X-Idempotency-Key`. */
function headerName(lowercase: string): string {
  let name = headerNames.get(lowercase);
  if (name === undefined) {
    name = lowercase.replace(
      /(^|-)([a-z])/g,
      (_match, dash: string, letter: string) => dash + letter.toUpperCase(),
    );
    headerNames.set(lowercase, name);
  }
  return name;
}
