/**
 * `npm start`: the payments service. Reads the configuration from the environment, opens the
 * database (running migrations) and Redis, listens, and drains on SIGTERM/SIGINT.
 */
import type { AddressInfo } from 'node:net';
import { refuseToStart, warnIfRedisDown } from '@tollgate/service-kit/backends';
import type { Lifecycle } from '@tollgate/service-kit/health';
import { InFlight } from '@tollgate/service-kit/in-flight';
import { buildApp } from './app.ts';
import { DEVELOPMENT_API_KEY } from './auth.ts';
import { loadConfig } from './config.ts';
import { openServices } from './services.ts';
import { shutdown } from './shutdown.ts';

const lifecycle: Lifecycle = { draining: false };
const { config, services, app, inFlight } = await (async () => {
  const config = loadConfig();
  const services = await openServices(config);
  const app = await buildApp(services, lifecycle);
  if (services.keys.development) {
    app.log.warn(
      `no API_KEYS or API_KEY set: accepting the development key "${DEVELOPMENT_API_KEY}" (principal "default"). Set API_KEYS before exposing this service.`,
    );
  }
  warnIfRedisDown(services.redis, app.log);
  const inFlight = new InFlight(app);
  await app.listen({ port: config.PORT, host: config.HOST });
  return { config, services, app, inFlight };
})().catch((error: unknown) => refuseToStart('payments', error));
// Signals first: a supervisor may send SIGTERM as soon as it hears the service is ready, and a
// signal that arrives before Node listens for it ends the process undrained.
let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    if (stopping) return;
    stopping = true;
    shutdown(app, services, lifecycle, inFlight, signal).then(
      () => process.exit(0),
      (error: unknown) => {
        app.log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  });
}

const { port } = app.server.address() as AddressInfo;
app.log.info(
  { port, database: services.database.kind, redis: services.redis !== undefined },
  `payments service listening on http://${config.HOST}:${port}`,
);
process.send?.({ ready: true, port });
