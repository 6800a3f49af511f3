/**
 * What the service does with connections, over raw sockets: a request that arrives too slowly
 * is answered 408 and its connection closed; what Node's HTTP parser refuses (an unknown
 * method, a header section too large, conflicting framing) is a problem+json like every other
 * refusal; and a draining process tells keep-alive clients to go, so it stops as soon as its
 * requests are done, not at the shutdown timeout.
 */
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRawResponse as parse, rawExchange } from '../../../testkit/raw-http.ts';
import {
  newKey,
  paymentBody,
  type RunningService,
  scratchDir,
  spawnService,
  startService,
} from './service.ts';

describe('connections', () => {
  let service: RunningService;
  let dir: ReturnType<typeof scratchDir>;
  beforeAll(async () => {
    dir = scratchDir();
    service = await startService({ DATA_DIR: dir.path, API_KEY: 'key-conn', REQUEST_TIMEOUT_MS: '500' });
  });
  afterAll(async () => {
    await service.close();
    dir.dispose();
  });

  it('answers a request whose body stops arriving 408 problem+json, and closes the connection', async () => {
    const started = performance.now();
    const raw = await rawExchange(
      service.url,
      'POST /api/v1/payments HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer key-conn\r\n' +
        `Idempotency-Key: ${newKey()}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"amount":`,
    );
    const answer = parse(raw);
    expect(answer.status).toBe(408);
    expect(answer.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(answer.body).toMatchObject({ type: 'https://tollgate.dev/problems/request-timeout', status: 408 });
    expect(performance.now() - started).toBeLessThan(4_000); // the 500 ms limit, checked every second
  });

  it('answers what the HTTP parser refuses as problem+json', async () => {
    for (const [request, status] of [
      ['FOO /health HTTP/1.1\r\nHost: x\r\n\r\n', 400],
      ['GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n', 400],
      ['GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n', 400],
      [`GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 431],
      // What Node's server answers itself with an empty body, unless told otherwise.
      ['GET /health HTTP/1.1\r\nConnection: close\r\n\r\n', 400],
      ['GET /health HTTP/1.1\r\nHost: a\r\nHost: b\r\nConnection: close\r\n\r\n', 400],
      [
        'POST /api/v1/payments HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n2\r\n{}\r\n0\r\n\r\n',
        501,
      ],
      ['GET /health HTTP/1.1\r\nHost: x\r\nExpect: 200-ok\r\nConnection: close\r\n\r\n', 417],
    ] as const) {
      const answer = parse(await rawExchange(service.url, request));
      expect(answer.status, request.slice(0, 40)).toBe(status);
      expect(answer.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(answer.body).toMatchObject({ status, detail: expect.any(String) });
    }
  });
});

describe('a draining process', () => {
  it('closes keep-alive connections as their requests finish, and exits without waiting out the timeout', {
    timeout: 60_000,
  }, async () => {
    const dir = scratchDir();
    const running = await spawnService({
      DATA_DIR: dir.path,
      API_KEY: 'key-drain',
      PROCESSOR_LATENCY_MS: '1500',
      SHUTDOWN_TIMEOUT_MS: '20000',
    });
    try {
      const { port } = new URL(running.url);
      const socket = connect(Number(port), '127.0.0.1');
      const received: Buffer[] = [];
      socket.on('data', (chunk) => received.push(chunk));
      const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
      const body = JSON.stringify(paymentBody);
      socket.write(
        'POST /api/v1/payments HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer key-drain\r\n' +
          `Idempotency-Key: ${newKey()}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
      await new Promise((resolve) => setTimeout(resolve, 500)); // the payment is at the processor
      const stopping = performance.now();
      running.child.kill('SIGTERM');
      await closed;
      const answer = parse(Buffer.concat(received).toString('utf8'));
      expect(answer.status).toBe(201);
      expect(answer.headers.connection).toBe('close');
      expect(await running.exited).toBe(0);
      expect(performance.now() - stopping).toBeLessThan(15_000); // not the 20 s shutdown timeout
    } finally {
      running.child.kill('SIGKILL');
      dir.dispose();
    }
  });
});

describe('`npm start` as an operator runs it', () => {
  it('drains and stops on a SIGTERM sent to npm, not only to node', { timeout: 60_000 }, async () => {
    const dir = scratchDir();
    const root = new URL('../../../', import.meta.url).pathname;
    const npm = spawn('npm', ['start'], {
      cwd: root,
      env: { ...process.env, PORT: '0', DATA_DIR: dir.path, API_KEY: 'key-npm', LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'inherit'],
      detached: true, // its own process group, so nothing it started can outlive the test
    });
    const exited = new Promise<number | null>((resolve) => npm.once('exit', (code) => resolve(code)));
    try {
      let logged = '';
      const port = await new Promise<number>((resolve, reject) => {
        npm.stdout!.on('data', (chunk: Buffer) => {
          logged += chunk;
          const listening = /"port":(\d+)/.exec(logged);
          if (listening) resolve(Number(listening[1]));
        });
        exited.then(() => reject(new Error(`npm start exited before listening:\n${logged}`)));
      });
      expect((await fetch(`http://127.0.0.1:${port}/health/live`)).status).toBe(200);
      npm.kill('SIGTERM');
      expect(await exited).toBe(0);
      await expect(fetch(`http://127.0.0.1:${port}/health/live`)).rejects.toThrow(); // nothing left listening
      expect(logged).toMatch(/"msg":"stopped"/);
    } finally {
      try {
        process.kill(-npm.pid!, 'SIGKILL');
      } catch {
        // the group is gone already
      }
      dir.dispose();
    }
  });
});
