/**
 * HTTP/1.1 over a bare socket, for tests of what a client can send that `fetch` will not (a
 * stalled body, conflicting framing, an unknown method) and of what comes back byte for byte.
 */
import { connect } from 'node:net';

/** Writes `text` on a new connection to `url`; resolves with all the server sent until it closed. */
export function rawExchange(url: string, text: string): Promise<string> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1');
    const received: Buffer[] = [];
    socket.on('data', (chunk) => received.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(received).toString('utf8')));
    socket.write(text);
  });
}

/** One raw response: its status, its headers (lower-case names) and its JSON body, if any. */
export function parseRawResponse(raw: string) {
  const [head = '', body = ''] = raw.split('\r\n\r\n');
  const [statusLine = '', ...lines] = head.split('\r\n');
  const headers = Object.fromEntries(
    lines.map((line) => [
      line.slice(0, line.indexOf(':')).toLowerCase(),
      line.slice(line.indexOf(':') + 1).trim(),
    ]),
  );
  return {
    status: Number(statusLine.split(' ')[1]),
    headers: headers as Record<string, string | undefined>,
    // biome-ignore lint/suspicious/noExplicitAny: a problem document whose shape the assertions check
    body: (body === '' ? undefined : JSON.parse(body)) as any,
  };
}
