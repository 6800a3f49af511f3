import { createHash } from 'node:crypto';
import { canonicalJson } from './canonical-json.ts';

/** A request body as the fingerprint sees it: parsed JSON, or bytes compared exactly. */
export type FingerprintBody = { readonly json: unknown } | { readonly bytes: Uint8Array | string };

/** What makes two requests "the same request" for one idempotency key. */
export interface FingerprintInput {
  readonly method: string;
  /** The route template (`/payments/:id`). */
  readonly route: string;
  /** Absent for requests without a body. */
  readonly body?: FingerprintBody;
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

/** The prefix of every version-1 fingerprint; a later version can change the rules beside it. */
export const FINGERPRINT_V1 = 'v1';

/**
 * Fingerprint v1: `v1:` and the base64url SHA-256 of the upper-cased method, the route template
 * and the body — JSON in {@link canonicalJson} form (key order and number spelling do not
 * matter), anything else byte-exact (a string is hashed as its UTF-8 bytes).
 *
 * @example
 * fingerprint({ method: 'POST', route: '/payments', body: { json: request.body } },
 *   { exclude: ['metadata.trace_id'] });
 */
export function fingerprint(input: FingerprintInput, options: FingerprintOptions = {}): string {
  const hash = createHash('sha256').update(`tollgate-fingerprint-${FINGERPRINT_V1}`);
  const body = input.body;
  const [kind, payload] =
    body === undefined
      ? ['none', '']
      : 'json' in body
        ? ['json', canonicalJson(without(body.json, options.exclude ?? []))]
        : ['bytes', body.bytes];
  for (const part of [input.method.toUpperCase(), input.route, kind, payload]) {
    hash.update(`\n${typeof part === 'string' ? Buffer.byteLength(part) : part.byteLength}:`).update(part);
  }
  return `${FINGERPRINT_V1}:${hash.digest('base64url')}`;
}

/** A copy of `value` without the excluded paths; `value` itself is never changed. */
function without(value: unknown, paths: readonly string[]): unknown {
  let result = value;
  for (const path of paths) result = removePath(result, path.split('.'));
  return result;
}

function removePath(value: unknown, path: readonly string[]): unknown {
  if (Array.isArray(value)) return value.map((item) => removePath(item, path));
  if (value === null || typeof value !== 'object' || path.length === 0) return value;
  const [head, ...rest] = path as [string, ...string[]];
  if (!Object.hasOwn(value, head)) return value;
  const copy: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  if (rest.length === 0) delete copy[head];
  else copy[head] = removePath(copy[head], rest);
  return copy;
}
