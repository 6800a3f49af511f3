/** The Express servers of `bench/http.ts`, each as a user of its library would write it. */
import express, { type ErrorRequestHandler, type Request, type RequestHandler } from 'express';
import { rateLimit } from 'express-rate-limit';
import { Redis } from 'ioredis';
import { tollgate } from 'tollgate/express';
import type { ExpressServer } from './contenders.ts';
import { expressIdempotency } from './express-idempotency.ts';
import { Effects, hello, payment } from './route.ts';
import { type BenchStores, huge, perIp, tollgateIdempotencyStore } from './stores.ts';

/** Builds and starts one server; answers its base URL. */
export async function expressServer(name: ExpressServer, stores: BenchStores): Promise<string> {
  const app = express();
  const effects = new Effects(new Redis(stores.redisUrl));
  /** The protection of `POST /pay` and `POST /race`, after body parsing. */
  let idempotent: RequestHandler[] = [];
  /** Whether the protection has answered already, yet called the handler (express-idempotency). */
  let answered = (_request: Request) => false;
  switch (name) {
    case 'express+tollgate(memory)':
      app.use(tollgate({ policies: perIp })());
      break;
    case 'express+express-rate-limit(memory)':
      app.use(rateLimit({ windowMs: 60_000, limit: huge, standardHeaders: 'draft-8', legacyHeaders: true }));
      break;
    case 'express+tollgate idem(tiered)':
    case 'express+tollgate idem(redis)': {
      const gate = tollgate({ idempotencyStore: await tollgateIdempotencyStore(name, stores) });
      idempotent = [gate({ idempotency: 'required' })];
      break;
    }
    case 'express+express-idempotency': {
      const peer = await expressIdempotency(stores.redisUrl);
      idempotent = [peer.middleware];
      answered = peer.answered;
      break;
    }
    case 'express':
      break;
  }
  app.get('/', (_req, res) => {
    res.json(hello);
  });
  app.get('/bench/handled', (_req, res) => {
    res.json({ pay: effects.paid });
  });
  app.post('/pay', express.json(), ...idempotent, (req, res) => {
    if (answered(req)) return;
    effects.paid++;
    res.status(201).json(payment);
  });
  app.post('/race', express.json(), ...idempotent, async (req, res) => {
    if (answered(req)) return;
    const effect = await effects.charge(req.get('idempotency-key'));
    res.status(201).json({ effect });
  });
  app.use(problem);
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

/**
 * Errors passed to `next` (express-idempotency refuses a key in flight that way, with the
 * status already set) answer problem+json instead of Express's default page and stack trace.
 */
const problem: ErrorRequestHandler = (error: Error, _req, res, _next) => {
  const status = res.statusCode >= 400 ? res.statusCode : 500;
  res
    .status(status)
    .type('application/problem+json')
    .send(JSON.stringify({ title: error.message, status }));
};
