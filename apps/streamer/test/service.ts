/** Starting the streamer service for tests, and calling it as its users, workers and Telegram do. */
import { type InProcessService, listenInProcess } from '../../../testkit/in-process-service.ts';
import { freshDatabase, keyPrefix, redisUrl, scratchDir as scratchDirIn } from '../../../testkit/index.ts';
import {
  type ServiceProcess,
  spawnService as spawnServiceProcess,
} from '../../../testkit/service-process.ts';
import { buildApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { openServices, type Services } from '../src/services.ts';

export const main = new URL('../src/main.ts', import.meta.url).pathname;

/** Users `u1`…`u40` (key `key-u1`…) and workers `w1`…`w4` (key `wkey-w1`…). */
export const API_KEYS = Array.from({ length: 40 }, (_, i) => `key-u${i + 1}:u${i + 1}`).join(',');
export const WORKER_KEYS = Array.from({ length: 4 }, (_, i) => `wkey-w${i + 1}:w${i + 1}`).join(',');
export const TELEGRAM_SECRET = 'telegram-secret-for-tests';

/** A temporary directory removed by `dispose`. */
export const scratchDir = () => scratchDirIn('streamer-test-');

/** The two configurations every rule is tested on. */
export const configurations: [string, () => Promise<{ env: Record<string, string>; dispose(): void }>][] = [
  [
    'the embedded default (PGlite, memory stores)',
    async () => {
      const dir = scratchDir();
      return { env: { DATA_DIR: dir.path }, dispose: dir.dispose };
    },
  ],
  [
    'PostgreSQL + Redis',
    async () => ({
      env: { DATABASE_URL: await freshDatabase(), REDIS_URL: redisUrl(), REDIS_KEY_PREFIX: keyPrefix() },
      dispose: () => undefined,
    }),
  ],
];

/** A service in this process. */
export type RunningService = InProcessService<Services>;

export async function startService(env: Record<string, string>): Promise<RunningService> {
  const services = await openServices(
    loadConfig({
      LOG_LEVEL: 'silent',
      API_KEYS,
      WORKER_KEYS,
      TELEGRAM_WEBHOOK_SECRET: TELEGRAM_SECRET,
      ...env,
    }),
  );
  const app = await buildApp(services);
  return listenInProcess(app, services);
}

export type { ServiceProcess } from '../../../testkit/service-process.ts';

/** The service as its own process (`node --conditions=tollgate-source --import tsx src/main.ts`). */
/** `undefined` unsets a variable this test process has. */
export function spawnService(env: Record<string, string | undefined>): Promise<ServiceProcess> {
  return spawnServiceProcess(main, {
    API_KEYS,
    WORKER_KEYS,
    TELEGRAM_WEBHOOK_SECRET: TELEGRAM_SECRET,
    ...env,
  });
}

/** An answer as tests read it. */
export interface Reply {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  // biome-ignore lint/suspicious/noExplicitAny: answers are JSON whose shape the assertions check
  readonly json: any;
}

/** Sends one request; `body` is JSON-encoded unless `raw` is given. */
export async function call(
  url: string,
  method: string,
  path: string,
  options: { headers?: Record<string, string>; body?: unknown; raw?: string } = {},
): Promise<Reply> {
  const hasBody = options.raw !== undefined || options.body !== undefined;
  const response = await fetch(url + path, {
    method,
    headers: { ...(hasBody && { 'content-type': 'application/json' }), ...options.headers },
    ...(hasBody && { body: options.raw ?? JSON.stringify(options.body) }),
  });
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}

/** A fresh valid idempotency key. */
export function newKey(): string {
  return `key-${crypto.randomUUID()}`;
}

/** The calls of one user (`u1`…) on a running service. */
export function user(url: string, id: string) {
  const auth = { authorization: `Bearer key-${id}` };
  /** Headers with `key` as Idempotency-Key (none when undefined or null). */
  const keyed = (key: string | null | undefined) => ({
    ...auth,
    ...(key != null && { 'idempotency-key': key }),
  });
  return {
    submit: (body: unknown = { name: 'Streamer', platform: 'twitch', channel: 'chan' }) =>
      call(url, 'POST', '/api/streamers', { headers: auth, body }),
    streamer: (id: string) => call(url, 'GET', `/api/streamers/${id}`, { headers: auth }),
    invoice: (stars: number, key?: string) =>
      call(url, 'POST', '/api/payments/stars/createInvoice', { headers: keyed(key), body: { stars } }),
    readInvoice: (id: string) => call(url, 'GET', `/api/payments/stars/invoices/${id}`, { headers: auth }),
    vote: (body: unknown, key: string | null = newKey()) =>
      call(url, 'POST', '/api/votes', { headers: keyed(key), body }),
    withdraw: (body: unknown, key: string | null = newKey()) =>
      call(url, 'POST', '/api/wallet/withdraw', { headers: keyed(key), body }),
    wallet: () => call(url, 'GET', '/api/wallet', { headers: auth }),
  };
}

/** A worker's calls (`w1`…). */
export function worker(url: string, id = 'w1') {
  const headers = (key: string | null) => ({
    authorization: `Bearer wkey-${id}`,
    ...(key !== null && { 'x-idempotency-key': key }),
  });
  return {
    events: (events: unknown, key: string | null = newKey()) =>
      call(url, 'POST', '/internal/worker/events', { headers: headers(key), body: { events } }),
    media: (clips: unknown, key: string | null = newKey()) =>
      call(url, 'POST', '/internal/worker/media', { headers: headers(key), body: { clips } }),
    status: (body: unknown, key: string | null = newKey()) =>
      call(url, 'POST', '/internal/worker/streamer-status', { headers: headers(key), body }),
  };
}

/**
 * Telegram's `Update` with a successful payment, as the issue gives it. One payment has one
 * charge id, whatever update carries it (a redelivery repeats it); pass `chargeId` for another
 * real payment of the same invoice.
 */
export function paymentUpdate(
  payload: string,
  totalAmount: number,
  updateId = 1,
  currency = 'XTR',
  chargeId = `charge-${payload}`,
) {
  return {
    update_id: updateId,
    message: {
      message_id: 2,
      date: 1700000000,
      chat: { id: 7, type: 'private' },
      from: { id: 7, is_bot: false, first_name: 'A' },
      successful_payment: {
        currency,
        total_amount: totalAmount,
        invoice_payload: payload,
        telegram_payment_charge_id: chargeId,
        provider_payment_charge_id: '',
      },
    },
  };
}

/** Posts an update to the webhook with the secret (or `secret`; null sends none). */
export function telegram(url: string, update: unknown, secret: string | null = TELEGRAM_SECRET) {
  return call(url, 'POST', '/integrations/telegram/payments', {
    headers: secret === null ? {} : { 'x-telegram-bot-api-secret-token': secret },
    body: update,
  });
}

/** Credits `stars` to a user's wallet the real way: an invoice, then Telegram's payment. */
export async function fund(url: string, id: string, stars: number): Promise<string> {
  const invoice = await user(url, id).invoice(stars, newKey());
  if (invoice.status !== 201) throw new Error(`invoice: ${invoice.status} ${invoice.text}`);
  const paid = await telegram(url, paymentUpdate(invoice.json.payload, stars));
  if (paid.status !== 200) throw new Error(`payment: ${paid.status} ${paid.text}`);
  return invoice.json.invoice_id;
}

/** A streamer submitted by `by`; its id. */
export async function newStreamer(url: string, by: string): Promise<string> {
  const made = await user(url, by).submit({ name: 'Streamer', platform: 'kick', channel: 'chan' });
  if (made.status !== 201) throw new Error(`submit: ${made.status} ${made.text}`);
  return made.json.id;
}
