import { afterAll, beforeAll } from 'vitest';
import { describeHttpContract } from './contract.ts';
import { expressApp, listen } from './fixtures/apps.ts';
import { type Backend, type BackendName, openBackend } from './fixtures/backends.ts';
import { overHttp } from './fixtures/client.ts';

for (const name of ['memory', 'pglite', 'redis+postgres'] as BackendName[]) {
  let backend: Backend;
  beforeAll(async () => {
    backend = await openBackend(name);
  });
  afterAll(() => backend.close());

  describeHttpContract(`express over a real port on ${name}`, async (effects) => {
    const server = await listen(expressApp(backend.stores(), effects));
    return { send: overHttp(server.url), close: server.close };
  });
}
