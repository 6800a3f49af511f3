import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';

/** A service running in the test's own process, on a free loopback port. */
export interface InProcessService<Services> {
  readonly url: string;
  readonly services: Services;
  readonly app: FastifyInstance;
  /** Closes the app, then the services it was built on. */
  close(): Promise<void>;
}

/** Starts `app` (built on `services`) on a free loopback port. */
export async function listenInProcess<Services extends { close(): Promise<void> }>(
  app: FastifyInstance,
  services: Services,
): Promise<InProcessService<Services>> {
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    services,
    app,
    async close() {
      await app.close();
      await services.close();
    },
  };
}
