/**
 * `npm run start:streamer`: the streamer service. Reads the configuration, opens the database
 * (running migrations) and Redis, listens, and drains on SIGTERM/SIGINT.
 */
import type { AddressInfo } from 'node:net';
import { refuseToStart, warnIfRedisDown } from '@tollgate/service-kit/backends';
import type { Lifecycle } from '@tollgate/service-kit/health';
import { drain, InFlight } from '@tollgate/service-kit/in-flight';
import { buildApp } from './app.ts';
import { DEVELOPMENT_API_KEY, DEVELOPMENT_TELEGRAM_SECRET, DEVELOPMENT_WORKER_KEY } from './auth.ts';
import { loadConfig } from './config.ts';
import { openServices } from './services.ts';

const lifecycle: Lifecycle = { draining: false };
const { config, services, app, inFlight } = await (async () => {
  const config = loadConfig();
  const services = await openServices(config);
  const app = await buildApp(services, lifecycle);
  for (const [used, variable, key, who] of [
    [services.users.development, 'API_KEYS', DEVELOPMENT_API_KEY, 'user "default"'],
    [services.workers.development, 'WORKER_KEYS', DEVELOPMENT_WORKER_KEY, 'worker "default"'],
    [
      services.telegram.development,
      'TELEGRAM_WEBHOOK_SECRET',
      DEVELOPMENT_TELEGRAM_SECRET,
      'the Telegram webhook',
    ],
  ] as const) {
    if (used)
      app.log.warn(
        `no ${variable} set: accepting the development key "${key}" (${who}). Set ${variable} before exposing this service.`,
      );
  }
  app.log.info(
    { limits: Object.fromEntries(config.policies.limits.map(({ row, limit }) => [row.name, limit])) },
    'limits in force',
  );
  warnIfRedisDown(services.redis, app.log);
  const inFlight = new InFlight(app);
  await app.listen({ port: config.PORT, host: config.HOST });
  return { config, services, app, inFlight };
})().catch((error: unknown) => refuseToStart('streamer', error));
// Signals first: a supervisor may send SIGTERM as soon as it hears the service is ready, and a
// signal that arrives before Node listens for it ends the process undrained.
let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    if (stopping) return;
    stopping = true;
    lifecycle.draining = true;
    app.log.info({ signal }, 'draining');
    // Requests in flight get SHUTDOWN_TIMEOUT_MS, then 503 + Retry-After rather than a reset
    // connection; a client that never finishes its request does not hold the process (its
    // claim's lease frees the key for a retry elsewhere).
    drain(app, inFlight, config.SHUTDOWN_TIMEOUT_MS)
      .then(() => services.close())
      .then(
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
  `streamer service listening on http://${config.HOST}:${port}`,
);
process.send?.({ ready: true, port });
