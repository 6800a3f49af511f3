import { afterAll, beforeAll } from 'vitest';
import { describeHttpContract } from './contract.ts';
import { fastifyApp, listen } from './fixtures/apps.ts';
import { type Backend, type BackendName, openBackend } from './fixtures/backends.ts';
import { injecting, overHttp } from './fixtures/client.ts';

// PGlite (seconds to start) runs under Express only; its SQL is the PostgreSQL store's.
for (const name of ['memory', 'redis+postgres'] as BackendName[]) {
  let backend: Backend;
  beforeAll(async () => {
    backend = await openBackend(name);
  });
  afterAll(() => backend.close());

  describeHttpContract(`fastify.inject on ${name}`, async (effects) => {
    const app = await fastifyApp(backend.stores(), effects);
    return { send: injecting(app), close: () => app.close() };
  });

  describeHttpContract(`fastify over a real port on ${name}`, async (effects) => {
    const server = await listen(await fastifyApp(backend.stores(), effects));
    return { send: overHttp(server.url), close: server.close };
  });
}
