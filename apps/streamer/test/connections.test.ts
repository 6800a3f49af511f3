/**
 * The streamer's connections, over raw sockets and a real process: a request whose body stops
 * arriving is answered 408 problem+json; parser refusals are problem+json; and SIGTERM ends
 * the process within SHUTDOWN_TIMEOUT_MS even while a client holds a request open.
 */
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { parseRawResponse, rawExchange } from '../../../testkit/raw-http.ts';
import { API_KEYS, scratchDir, spawnService } from './service.ts';

describe('streamer connections', () => {
  it('408s a stalled body, answers parser refusals as problems, and stops within the shutdown timeout', {
    timeout: 60_000,
  }, async () => {
    const dir = scratchDir();
    const running = await spawnService({
      DATA_DIR: dir.path,
      API_KEYS,
      REQUEST_TIMEOUT_MS: '800',
      SHUTDOWN_TIMEOUT_MS: '2000',
    });
    try {
      const port = Number(new URL(running.url).port);
      const stalled = await rawExchange(
        running.url,
        'POST /api/votes HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer key-u1\r\n' +
          'Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"streamer_id":',
      );
      expect(stalled).toMatch(/\r\ncontent-type: application\/problem\+json\r\n/i);
      const timedOut = parseRawResponse(stalled);
      expect(timedOut.status).toBe(408);
      expect(timedOut.body).toMatchObject({ type: 'https://tollgate.dev/problems/request-timeout' });

      const malformed = parseRawResponse(
        await rawExchange(
          running.url,
          'GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n',
        ),
      );
      expect([malformed.status, malformed.body.status]).toEqual([400, 400]);

      // A client that opens a request and never finishes it, then SIGTERM: the process ends anyway.
      const holder = connect(port, '127.0.0.1');
      holder.on('error', () => undefined);
      holder.write(
        'POST /api/votes HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer key-u1\r\nContent-Length: 1000\r\n\r\n{',
      );
      const stopping = performance.now();
      running.child.kill('SIGTERM');
      expect(await running.exited).toBe(0);
      expect(performance.now() - stopping).toBeLessThan(8_000);
      holder.destroy();
    } finally {
      running.child.kill('SIGKILL');
      dir.dispose();
    }
  });
});
