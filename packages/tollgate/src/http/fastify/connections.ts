import { isIP } from 'node:net';
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
  /**
   * The proxies in front of the server, whose `X-Forwarded-For` gives the client's address —
   * the `ip` of rate-limit subjects: their addresses or CIDRs, comma-separated
   * (`10.0.0.0/8,127.0.0.1`), or how many hops to trust (`1`). Without it the connecting
   * address is the client's, so behind a proxy every client shares the proxy's.
   * @default none
   */
  readonly trustedProxies?: string;
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
export function connectionOptions({ requestTimeoutMs = 30_000, trustedProxies }: ConnectionOptions = {}) {
  return {
    ...(trustedProxies !== undefined && { trustProxy: proxies(trustedProxies) }),
    requestTimeout: requestTimeoutMs,
    http: {
      connectionsCheckingInterval: 1000,
      requestTimeout: requestTimeoutMs,
      headersTimeout: Math.min(60_000, requestTimeoutMs),
    },
    clientErrorHandler,
  };
}

/**
 * Fastify's `trustProxy` for {@link ConnectionOptions.trustedProxies}: a hop count, or the list
 * as given once every entry is an address or a CIDR (trusting every sender would let any
 * client choose its own address, so `true` is not offered).
 * @throws {TypeError} naming the entry that is neither.
 */
function proxies(given: string): string | ((address: string, hop: number) => boolean) {
  const text = given.trim();
  if (/^[0-9]+$/.test(text)) {
    const hops = Number(text);
    return (_address, hop) => hop < hops;
  }
  for (const entry of text.split(',')) {
    const [address = '', bits, ...rest] = entry.trim().split('/');
    const family = isIP(address);
    const maxBits = family === 6 ? 128 : 32;
    const prefix = bits === undefined || (/^[0-9]{1,3}$/.test(bits) && Number(bits) <= maxBits);
    if (family === 0 || !prefix || rest.length > 0) {
      throw new TypeError(
        `trustedProxies: "${entry.trim()}" is not an address or a CIDR (give addresses or CIDRs, comma-separated, or a hop count)`,
      );
    }
  }
  return text;
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
