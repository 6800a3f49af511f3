/**
 * `npm start`: the payments service. Reads the configuration from the environment, opens the
 * database (running migrations) and Redis, listens, and drains on SIGTERM/SIGINT.
 */
import type { AddressInfo } from 'node:net';
import type { Lifecycle } from '@tollgate/service-kit/health';
import { buildApp } from './app.ts';
import { DEVELOPMENT_API_KEY } from './auth.ts';
import { loadConfig } from './config.ts';
import { openServices } from './services.ts';
import { shutdown } from './shutdown.ts';

const config = loadConfig();
const services = await openServices(config);
const lifecycle: Lifecycle = { draining: false };
const app = await buildApp(services, lifecycle);
if (services.keys.development) {
  app.log.warn(
    `no API_KEYS or API_KEY set: accepting the development key "${DEVELOPMENT_API_KEY}" (principal "default"). Set API_KEYS before exposing this service.`,
  );
}
await app.listen({ port: config.PORT, host: config.HOST });
const { port } = app.server.address() as AddressInfo;
app.log.info(
  { port, database: services.database.kind, redis: services.redis !== undefined },
  `payments service listening on http://${config.HOST}:${port}`,
);
process.send?.({ ready: true, port });

let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    if (stopping) return;
    stopping = true;
    shutdown(app, services, lifecycle, signal).then(
      () => process.exit(0),
      (error: unknown) => {
        app.log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  });
}
