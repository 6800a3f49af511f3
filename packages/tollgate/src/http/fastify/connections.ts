import type { Duplex } from 'node:stream';
import { problem, problemAnswer, problems } from '../problem.ts';

/** Options of {@link connectionOptions}. */
export interface ConnectionOptions {
  /**
   * The longest a client may take to send one whole request (headers and body), in ms; then
   * 408 problem+json and the connection is closed.
   * @default 30_000
   */
  readonly requestTimeoutMs?: number;
}

/**
 * Fastify server options against slow and malformed clients, to spread into `Fastify({…})`:
 * a request must arrive whole within `requestTimeoutMs` (checked every second — Node only
 * enforces it when the server is created with it, and Fastify sets it again afterwards, so it
 * is given both ways), and what Node's HTTP parser refuses before Fastify sees a request (a
 * malformed request line or header, an unknown method, conflicting framing, a header section
 * over the size limit, a request too slow to arrive) is answered 400/408/431 as
 * problem+json, like every other refusal, and the connection closed.
 *
 * @example
 * const app = Fastify({ ...connectionOptions({ requestTimeoutMs: 10_000 }), bodyLimit: 1_048_576 });
 */
export function connectionOptions({ requestTimeoutMs = 30_000 }: ConnectionOptions = {}) {
  return {
    requestTimeout: requestTimeoutMs,
    http: {
      connectionsCheckingInterval: 1000,
      requestTimeout: requestTimeoutMs,
      headersTimeout: Math.min(60_000, requestTimeoutMs),
    },
    clientErrorHandler,
  };
}

function clientErrorHandler(error: Error & { code?: string }, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  if (!socket.writable) return void socket.destroy(error);
  const [kind, detail] =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [problems['request-timeout'], 'The request did not arrive in time; send it again, whole.']
      : error.code === 'HPE_HEADER_OVERFLOW'
        ? [problems['header-too-large'], 'The request line and headers are too large.']
        : [
            problems['bad-request'],
            'The request is not valid HTTP/1.1 (its request line, a header or its framing).',
          ];
  const answer = problemAnswer(problem(kind, detail));
  socket.end(
    `HTTP/1.1 ${kind.status} ${kind.title}\r\nContent-Type: ${answer.headers['content-type']}\r\n` +
      `Content-Length: ${Buffer.byteLength(answer.body)}\r\nConnection: close\r\n\r\n${answer.body}`,
  );
}
