import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import Fastify from 'fastify';
import { tollgate } from 'tollgate/fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * A client that hangs up in the middle of a streamed response has not undone the effect the
 * handler already had: the key must end up completed with the whole body, so a retry
 * replays it instead of charging again.
 */
describe('Fastify: a client that disconnects mid-stream', () => {
  const app = Fastify();
  let effects = 0;
  let brokenRuns = 0;
  let base = '';

  beforeAll(async () => {
    await app.register(tollgate, { principal: () => 'acct_1' });
    app.post(
      '/exports',
      { config: { tollgate: { idempotency: { mode: 'required' } } } },
      async (_request, reply) => {
        effects++;
        const chunks = ['first;', 'second;', 'third'];
        const body = Readable.from(
          (async function* () {
            for (const chunk of chunks) {
              yield Buffer.from(chunk);
              await sleep(60);
            }
          })(),
        );
        return reply.code(201).type('text/plain').send(body);
      },
    );
    app.post(
      '/broken',
      { config: { tollgate: { idempotency: { mode: 'required' } } } },
      async (_request, reply) => {
        brokenRuns++;
        const body = Readable.from(
          (async function* () {
            yield Buffer.from('partial;');
            await sleep(20);
            throw new Error('the export failed half way');
          })(),
        );
        return reply.code(200).type('text/plain').send(body);
      },
    );
    await app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  });
  afterAll(() => app.close());

  it('completes the key with the whole body; the retry replays it and the effect ran once', async () => {
    const key = 'stream-disconnect-key-0001';
    await new Promise<void>((resolve, reject) => {
      const req = httpRequest(
        `${base}/exports`,
        { method: 'POST', headers: { 'idempotency-key': key } },
        (res) => {
          res.once('data', () => {
            req.destroy(); // hang up after the first chunk
            resolve();
          });
        },
      );
      req.on('error', () => undefined);
      req.once('error', reject);
      req.end();
    });

    let retry: Response | undefined;
    for (let attempt = 0; attempt < 40; attempt++) {
      retry = await fetch(`${base}/exports`, { method: 'POST', headers: { 'idempotency-key': key } });
      if (retry.status !== 409) break;
      await retry.arrayBuffer();
      await sleep(50);
    }
    expect(retry!.status).toBe(201);
    expect(retry!.headers.get('idempotent-replayed')).toBe('true');
    expect(await retry!.text()).toBe('first;second;third');
    expect(effects).toBe(1);
  });

  it('gives the key back when the source stream itself fails, like a 5xx', async () => {
    const key = 'stream-broken-key-000001';
    const attempt = () =>
      fetch(`${base}/broken`, { method: 'POST', headers: { 'idempotency-key': key } })
        .then((response) => response.text())
        .catch(() => 'connection broken');
    await attempt();
    for (let tries = 0; tries < 40 && brokenRuns < 2; tries++) {
      await attempt();
      await sleep(25);
    }
    expect(brokenRuns).toBe(2);
  });
});
