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
 * A completed record as one binary value read with one `GET`, no JSON and no base64:
 * `u16 status, u8 body omitted, u16 fingerprint length, fingerprint, u16 header count,
 * (u16 name length, name, u32 value length, value)…, body`, lengths in bytes, text in UTF-8.
 */
export function completedToBytes(fingerprint: string, response: StoredResponse): Buffer {
  const parts: Buffer[] = [];
  const head = Buffer.alloc(5);
  head.writeUInt16BE(response.status, 0);
  head.writeUInt8(response.bodyOmitted ? 1 : 0, 2);
  head.writeUInt16BE(Buffer.byteLength(fingerprint), 3);
  parts.push(head, Buffer.from(fingerprint, 'utf8'), u16(response.headers.length));
  for (const [name, value] of response.headers) {
    const valueLength = Buffer.alloc(4);
    valueLength.writeUInt32BE(Buffer.byteLength(value), 0);
    parts.push(
      u16(Buffer.byteLength(name)),
      Buffer.from(name, 'utf8'),
      valueLength,
      Buffer.from(value, 'utf8'),
    );
  }
  parts.push(Buffer.from(response.body.buffer, response.body.byteOffset, response.body.byteLength));
  return Buffer.concat(parts);
}

export function completedFromBytes(bytes: Buffer): { fingerprint: string; response: StoredResponse } {
  const status = bytes.readUInt16BE(0);
  const bodyOmitted = bytes[2] === 1;
  let at = 5 + bytes.readUInt16BE(3);
  const fingerprint = bytes.toString('utf8', 5, at);
  const count = bytes.readUInt16BE(at);
  at += 2;
  const headers: [string, string][] = [];
  for (let i = 0; i < count; i++) {
    const nameEnd = at + 2 + bytes.readUInt16BE(at);
    const name = bytes.toString('utf8', at + 2, nameEnd);
    const valueEnd = nameEnd + 4 + bytes.readUInt32BE(nameEnd);
    headers.push([name, bytes.toString('utf8', nameEnd + 4, valueEnd)]);
    at = valueEnd;
  }
  if (at > bytes.length) throw new RangeError('A cached completion is truncated.');
  return { fingerprint, response: { status, headers, bodyOmitted, body: bytes.subarray(at) } };
}

function u16(n: number): Buffer {
  const buffer = Buffer.alloc(2);
  buffer.writeUInt16BE(n, 0);
  return buffer;
}
