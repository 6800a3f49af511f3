import { hash } from 'node:crypto';
import { ErrorCode } from '../codes.ts';
import { canonicalJson, MAX_JSON_DEPTH } from './canonical-json.ts';
import { FingerprintError, isFingerprintError } from './errors.ts';

/** A request body as the fingerprint sees it: parsed JSON, or bytes compared exactly. */
export type FingerprintBody = { readonly json: unknown } | { readonly bytes: Uint8Array | string };

/** What makes two requests "the same request" for one idempotency key. */
export interface FingerprintInput {
  readonly method: string;
  /** The route template (`/payments/:id`). */
  readonly route: string;
  /** Absent for requests without a body. */
  readonly body?: FingerprintBody;
  /**
   * The route's path parameters (`{ id: 'acct_2' }` for `/accounts/:id/charge`): the same key
   * sent to another resource is another request. Left out when there are none.
   */
  readonly params?: Readonly<Record<string, string | undefined>>;
}

/** Per-route fingerprint settings. */
export interface FingerprintOptions {
  /**
   * JSON members left out of the fingerprint, as dotted paths (`metadata.trace_id`). A path
   * crossing an array applies to each of its elements (`items.note`). Non-JSON bodies ignore it.
   * @default []
   */
  readonly exclude?: readonly string[];
}

/** The answer of {@link tryFingerprint}. */
export type FingerprintResult =
  | { readonly ok: true; readonly fingerprint: string }
  | { readonly ok: false; readonly error: FingerprintError };

/** The prefix of every version-1 fingerprint; a later version can change the rules beside it. */
const version = 'v1';

/**
 * Fingerprint v1: `v1:` and the base64url SHA-256 of the upper-cased method, the route template,
 * the body — JSON in {@link canonicalJson} form (key order and number spelling do not matter),
 * anything else byte-exact (a string is hashed as its UTF-8 bytes) — and the path parameters,
 * when there are any.
 *
 * @throws {FingerprintError} when the JSON body is not JSON: too deep, a number out of range, a
 * value JSON cannot hold (see {@link canonicalJson}) — the client's mistake, for a 400. Nothing else.
 *
 * @example
 * fingerprint({ method: 'POST', route: '/payments', body: { json: request.body } },
 *   { exclude: ['metadata.trace_id'] });
 */
export function fingerprint(input: FingerprintInput, options: FingerprintOptions = {}): string {
  const [kind, payload] = payloadOf(input.body, options.exclude ?? []);
  // Each part length-prefixed; text hashed as one string (one call, no hash object per request).
  let text = `tollgate-fingerprint-${version}`;
  for (const part of [input.method.toUpperCase(), input.route, kind])
    text += `\n${Buffer.byteLength(part)}:${part}`;
  const params = paramsOf(input.params);
  const tail = params === undefined ? '' : `\n6:params\n${Buffer.byteLength(params)}:${params}`;
  const data =
    typeof payload === 'string'
      ? `${text}\n${Buffer.byteLength(payload)}:${payload}${tail}`
      : Buffer.concat([Buffer.from(`${text}\n${payload.byteLength}:`), payload, Buffer.from(tail)]);
  return `${version}:${hash('sha256', data, 'base64url')}`;
}

/**
 * {@link fingerprint} as a result: a body that cannot be fingerprinted is `ok: false` with its
 * {@link FingerprintError}, for the adapter to answer 400.
 *
 * @example
 * const print = tryFingerprint({ method, route, body: { json: request.body } });
 * if (!print.ok) return reply.code(400).send(problem(print.error.code, print.error.message));
 */
export function tryFingerprint(input: FingerprintInput, options: FingerprintOptions = {}): FingerprintResult {
  try {
    return { ok: true, fingerprint: fingerprint(input, options) };
  } catch (error) {
    if (isFingerprintError(error)) return { ok: false, error };
    throw error;
  }
}

/** The path parameters in canonical form, or undefined when there are none (fingerprints stay as they were). */
function paramsOf(params: FingerprintInput['params']): string | undefined {
  if (params === undefined) return undefined;
  let present: Record<string, string> | undefined;
  for (const name in params) {
    const value = params[name];
    if (value === undefined) continue;
    present ??= {};
    present[name] = value;
  }
  return present === undefined ? undefined : canonicalJson(present);
}

function payloadOf(
  body: FingerprintBody | undefined,
  exclude: readonly string[],
): [string, string | Uint8Array] {
  if (body === undefined) return ['none', ''];
  if (body !== null && typeof body === 'object') {
    if ('json' in body) return ['json', canonicalJson(without(body.json, exclude))];
    if (typeof body.bytes === 'string' || body.bytes instanceof Uint8Array) return ['bytes', body.bytes];
  }
  throw new FingerprintError(
    ErrorCode.FingerprintNotJson,
    'A request body is given as { json } (the parsed value) or { bytes } (a string or a Uint8Array).',
    '',
  );
}

/** `value` without the excluded paths: a copy where something is left out, never a change to `value`. */
function without(value: unknown, paths: readonly string[]): unknown {
  let result = value;
  for (const path of paths) result = removePath(result, path.split('.'));
  return result;
}

/**
 * Copies only what changes, so a cycle stays a cycle for {@link canonicalJson} to name. Past
 * `MAX_JSON_DEPTH` it stops and leaves the rest as it is: canonicalJson refuses such a value.
 */
function removePath(value: unknown, path: readonly string[], depth = 1): unknown {
  if (value === null || typeof value !== 'object' || depth > MAX_JSON_DEPTH) return value;
  if (Array.isArray(value)) {
    const items = value.map((item) => removePath(item, path, depth + 1));
    return items.some((item, index) => item !== value[index]) ? items : value;
  }
  const [head, ...rest] = path as [string, ...string[]];
  if (!Object.hasOwn(value, head)) return value;
  const member = (value as Record<string, unknown>)[head];
  const kept = rest.length === 0 ? undefined : removePath(member, rest, depth + 1);
  if (rest.length > 0 && kept === member) return value;
  const copy: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  if (rest.length === 0) delete copy[head];
  else copy[head] = kept;
  return copy;
}
