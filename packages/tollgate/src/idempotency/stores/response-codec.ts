import type { StoredResponse } from '../record.ts';

/** The metadata of a stored response; the body travels beside it. */
interface ResponseHead {
  s: number;
  h: (readonly [string, string])[];
  o: boolean;
}

/**
 * A response as text (body in base64), for places that only carry strings — a field read by a
 * Lua script whose reply is decoded as UTF-8.
 */
export function responseToText(response: StoredResponse): string {
  const head: ResponseHead & { b: string } = {
    s: response.status,
    h: [...response.headers],
    o: response.bodyOmitted,
    b: Buffer.from(response.body.buffer, response.body.byteOffset, response.body.byteLength).toString(
      'base64',
    ),
  };
  return JSON.stringify(head);
}

export function responseFromText(text: string): StoredResponse {
  const head = JSON.parse(text) as ResponseHead & { b: string };
  return { status: head.s, headers: head.h, bodyOmitted: head.o, body: Buffer.from(head.b, 'base64') };
}

/**
 * A completed record as one binary value: a JSON line (fingerprint and response head), then the
 * body's raw bytes — one `GET` and no base64 on the replay path.
 */
export function completedToBytes(fingerprint: string, response: StoredResponse): Buffer {
  const head = JSON.stringify({
    f: fingerprint,
    s: response.status,
    h: response.headers,
    o: response.bodyOmitted,
  });
  return Buffer.concat([Buffer.from(`${head}\n`, 'utf8'), response.body]);
}

export function completedFromBytes(bytes: Buffer): { fingerprint: string; response: StoredResponse } {
  const newline = bytes.indexOf(10);
  const head = JSON.parse(bytes.toString('utf8', 0, newline)) as ResponseHead & { f: string };
  return {
    fingerprint: head.f,
    response: { status: head.s, headers: head.h, bodyOmitted: head.o, body: bytes.subarray(newline + 1) },
  };
}
