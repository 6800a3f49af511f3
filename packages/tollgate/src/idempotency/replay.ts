import type { StoredResponse } from './record.ts';

/** Header values as Node's `getHeaders()` gives them, or any iterable of pairs (fetch `Headers`). */
export type CapturedHeaders =
  | Readonly<Record<string, string | number | readonly string[] | undefined>>
  | Iterable<readonly [string, string]>;

/** A response as the handler produced it, before anything is stored. */
export interface CapturedResponse {
  readonly status: number;
  readonly headers?: CapturedHeaders;
  /** The exact bytes sent; a string is stored as its UTF-8 bytes. */
  readonly body?: Uint8Array | string;
}

/** A stored response ready to send again, marked with `idempotent-replayed: true`. */
export interface ReplayedResponse extends StoredResponse {}

/** Headers worth replaying: they describe the result, not this particular transmission. */
export const DEFAULT_REPLAY_HEADERS: readonly string[] = [
  'content-type',
  'content-language',
  'content-location',
  'content-disposition',
  'location',
  'etag',
  'last-modified',
  'link',
  'cache-control',
];

/**
 * Never stored whatever the allow-list says: cookies and dates belong to one transmission,
 * rate-limit headers to the moment they were computed, framing headers to one connection.
 */
const neverReplayed =
  /^(set-cookie|date|retry-after|ratelimit|ratelimit-policy|x-ratelimit-.*|content-length|transfer-encoding|connection|keep-alive)$/;

/** The response to store: allow-listed headers only, the body dropped past `maxBodyBytes`. */
export function toStoredResponse(
  captured: CapturedResponse,
  allowHeaders: ReadonlySet<string>,
  maxBodyBytes: number,
): StoredResponse {
  const body =
    typeof captured.body === 'string'
      ? Buffer.from(captured.body, 'utf8')
      : (captured.body ?? new Uint8Array());
  const bodyOmitted = body.byteLength > maxBodyBytes;
  return {
    status: captured.status,
    headers: replayableHeaders(captured.headers, allowHeaders),
    body: bodyOmitted ? new Uint8Array() : Uint8Array.from(body),
    bodyOmitted,
  };
}

/** The stored response as a replay: the same status and body, plus `idempotent-replayed: true`. */
export function toReplay(stored: StoredResponse): ReplayedResponse {
  return { ...stored, headers: [...stored.headers, ['idempotent-replayed', 'true']] };
}

function replayableHeaders(
  headers: CapturedHeaders | undefined,
  allow: ReadonlySet<string>,
): [string, string][] {
  if (headers === undefined) return [];
  const pairs: [string, string][] = [];
  const entries: Iterable<readonly [string, unknown]> =
    Symbol.iterator in headers ? (headers as Iterable<readonly [string, string]>) : Object.entries(headers);
  for (const [rawName, value] of entries) {
    const name = rawName.toLowerCase();
    if (!allow.has(name) || neverReplayed.test(name) || value === undefined) continue;
    for (const one of Array.isArray(value) ? value : [value]) pairs.push([name, String(one)]);
  }
  return pairs;
}
