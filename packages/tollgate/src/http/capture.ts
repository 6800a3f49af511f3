/**
 * The response capture model both adapters share: the bytes a response carried, collected as
 * they pass (whole payloads, `write`/`end` chunks or a stream), so the stored body is exactly
 * what went over the wire.
 */
export class BodyCapture {
  private readonly chunks: Buffer[] = [];

  /** Adds a chunk as the framework handed it (string in `encoding`, Buffer or typed array). */
  add(chunk: unknown, encoding?: BufferEncoding): void {
    if (chunk === undefined || chunk === null) return;
    if (typeof chunk === 'string') this.chunks.push(Buffer.from(chunk, encoding ?? 'utf8'));
    else if (Buffer.isBuffer(chunk)) this.chunks.push(chunk);
    else if (ArrayBuffer.isView(chunk))
      this.chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    else if (chunk instanceof ArrayBuffer) this.chunks.push(Buffer.from(chunk));
  }

  /** Every byte so far, in order. */
  bytes(): Buffer {
    return this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
  }
}

/** A stored body as a Buffer over the same memory (frameworks send Buffers as they are). */
export function asBuffer(body: string | Uint8Array): Buffer | string {
  return typeof body === 'string' || Buffer.isBuffer(body)
    ? body
    : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
}
