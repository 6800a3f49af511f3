import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';

/** A request as the test server saw it. */
export interface Seen {
  readonly method: string;
  readonly path: string;
  readonly key: string | undefined;
  readonly body: string;
  /** performance.now() when the request had been read. */
  readonly at: number;
}

export type Handler = (seen: Seen, res: ServerResponse, req: IncomingMessage) => void;

export interface FaultServer {
  readonly url: string;
  readonly port: number;
  readonly seen: Seen[];
  /** Replace the behaviour, e.g. to recover from an outage. */
  handle(handler: Handler): void;
  close(): Promise<void>;
}

/** A real HTTP server on 127.0.0.1, port 0 unless given, whose behaviour each test scripts. */
export async function startFaultServer(handler: Handler, port = 0): Promise<FaultServer> {
  let current = handler;
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const key = req.headers['idempotency-key'];
      const entry: Seen = {
        method: req.method ?? 'GET',
        path: req.url ?? '/',
        key: typeof key === 'string' ? key : undefined,
        body: Buffer.concat(chunks).toString('utf8'),
        at: performance.now(),
      };
      seen.push(entry);
      current(entry, res, req);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  const actual = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${actual}`,
    port: actual,
    seen,
    handle: (next) => {
      current = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Answers `status` with optional headers and a JSON body. */
export function reply(
  res: ServerResponse,
  status: number,
  body: unknown = {},
  headers: Record<string, string> = {},
) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

/** Drops the connection without an answer: the client cannot know whether the work was done. */
export function drop(req: IncomingMessage): void {
  req.socket.destroy();
}
