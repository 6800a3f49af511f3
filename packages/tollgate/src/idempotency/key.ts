import { parseItem } from 'structured-headers';
import { ErrorCode } from '../codes.ts';
import { IdempotencyKeyError, type IdempotencyKeyErrorCode } from './errors.ts';

/** 16–255 characters of `[A-Za-z0-9_-]`: long enough to be unguessable, short enough to index. */
const validKey = /^[A-Za-z0-9_-]{16,255}$/;

/** The answer of {@link parseIdempotencyKey}. */
export type KeyParseResult =
  | { readonly ok: true; readonly key: string }
  | { readonly ok: false; readonly error: IdempotencyKeyError };

/**
 * Reads an `Idempotency-Key` header value: the IETF draft's structured-field string
 * (`"8e03978e-40d5-43e8-bc93-6894a57f9324"`) or a bare token of the same characters.
 * A header repeated by the client (an array, or a comma-joined value) is malformed.
 *
 * @example
 * const parsed = parseIdempotencyKey(request.headers['idempotency-key']);
 * if (!parsed.ok) return reply.code(400).send(problem(parsed.error.code));
 */
export function parseIdempotencyKey(
  header: string | readonly string[] | undefined,
  /** The header's name as errors say it (a route may read `X-Idempotency-Key`). */
  name = 'Idempotency-Key',
): KeyParseResult {
  if (header === undefined || (typeof header !== 'string' && header.length === 0)) {
    return refuse(ErrorCode.IdempotencyKeyMissing, `The route requires an ${name} header.`);
  }
  if (typeof header !== 'string') {
    if (header.length > 1) return malformed(name, 'the header appears more than once');
    return parseIdempotencyKey(header[0], name);
  }
  const value = header.trim();
  if (value === '') return refuse(ErrorCode.IdempotencyKeyMissing, `The ${name} header is empty.`);
  const key = value.startsWith('"') ? structuredString(value) : value;
  if (key === undefined) return malformed(name, 'it is not a valid structured-field string');
  if (!validKey.test(key))
    return malformed(name, 'it must be 16 to 255 characters of A-Z, a-z, 0-9, "_" and "-"');
  return { ok: true, key };
}

/** The string of a structured-field item, or undefined when it is not exactly one string. */
function structuredString(value: string): string | undefined {
  try {
    const [item, parameters] = parseItem(value);
    return typeof item === 'string' && parameters.size === 0 ? item : undefined;
  } catch {
    return undefined;
  }
}

function malformed(name: string, why: string): KeyParseResult {
  return refuse(ErrorCode.IdempotencyKeyMalformed, `The ${name} header is malformed: ${why}.`);
}

function refuse(code: IdempotencyKeyErrorCode, message: string): KeyParseResult {
  return { ok: false, error: new IdempotencyKeyError(code, message) };
}
