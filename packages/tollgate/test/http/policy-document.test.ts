/**
 * One policy file governs a Fastify or an Express app: each route takes its idempotency and
 * limits from the file by its template, and an app that lacks a route the file names refuses
 * to start.
 */
import { randomBytes } from 'node:crypto';
import express from 'express';
import Fastify from 'fastify';
import { tollgate as expressTollgate } from 'tollgate/express';
import { tollgate as fastifyTollgate } from 'tollgate/fastify';
import { loadPolicies } from 'tollgate/policies';
import { describe, expect, it } from 'vitest';
import { listen } from './fixtures/apps.ts';
import { overHttp } from './fixtures/client.ts';

const text = `
version: 1
idempotency:
  - route: POST /api/votes/:streamer
    key: { header: Idempotency-Key }
    storage: Redis
    ttl: 24h
limits:
  - name: vote
    scope: [principal, param:streamer]
    routes: [POST /api/votes/:streamer]
    limit: 2
    window: 60s
    algorithm: sliding-window
    configKey: limits.votePerMin
    counts: operations
`;

const principal = (headers: Record<string, unknown>) => headers['x-account'] as string | undefined;

describe('a policy document in the adapters', () => {
  const document = loadPolicies({ text, format: 'yaml' }, { overrides: { 'limits.votePerMin': 1 } });

  it.each(['fastify', 'express'] as const)(
    '%s takes each route’s settings from the file',
    async (framework) => {
      let runs = 0;
      let server: { url: string; close(): Promise<void> };
      if (framework === 'fastify') {
        const app = Fastify();
        await app.register(fastifyTollgate, { document, principal: (request) => principal(request.headers) });
        app.post('/api/votes/:streamer', async (_request, reply) => reply.code(201).send({ run: ++runs }));
        server = await listen(app);
      } else {
        const app = express();
        const gate = expressTollgate({ document, principal: (req) => principal(req.headers) });
        app.post('/api/votes/:streamer', express.json(), gate('POST /api/votes/:streamer'), (_req, res) => {
          res.status(201).json({ run: ++runs });
        });
        gate.verify();
        server = await listen(app);
      }
      try {
        const send = overHttp(server.url);
        const headers = { 'x-account': 'acct_doc' };
        const vote = (streamer: string, key = randomBytes(16).toString('hex')) =>
          send({ url: `/api/votes/${streamer}`, headers: { ...headers, 'idempotency-key': key }, json: {} });
        expect((await send({ url: '/api/votes/s1', headers, json: {} })).status).toBe(400); // the key is required
        const first = await vote('s1', 'vote-key-0000000001');
        expect([first.status, first.headers['ratelimit-policy']]).toEqual([201, '"vote";q=1;w=60']); // the configured 1
        expect((await vote('s1')).status).toBe(429);
        expect((await vote('s2')).status).toBe(201);
        expect((await vote('s1', 'vote-key-0000000001')).headers['idempotent-replayed']).toBe('true');
        expect(runs).toBe(2);
      } finally {
        await server.close();
      }
    },
  );

  it('refuses to start an app that lacks a route the file names', async () => {
    const app = Fastify();
    await app.register(fastifyTollgate, { document });
    app.post('/api/vote/:streamer', async () => 'typo');
    await expect(app.ready()).rejects.toMatchObject({ code: 'ERR_POLICY_ROUTES' });
    const gate = expressTollgate({ document });
    gate('POST /api/vote/:streamer');
    expect(() => gate.verify()).toThrow(/POST \/api\/votes\/:streamer/);
  });
});
