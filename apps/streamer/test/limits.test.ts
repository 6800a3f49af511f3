/**
 * Every row of seed 000's rate-limit table at its default, over a real port on both
 * configurations: the request after the limit is 429 with Retry-After, the draft-10 and the
 * X-RateLimit-* headers; replays spend nothing.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  configurations,
  newKey,
  newStreamer,
  paymentUpdate,
  type Reply,
  type RunningService,
  startService,
  telegram,
  user,
  worker,
} from './service.ts';

/** The 429 as the seed and the draft ask for it. */
function expectLimited(answer: Reply, policy: string, limit: number) {
  expect(answer.status).toBe(429);
  expect(answer.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(Number(answer.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  expect(answer.headers.get('ratelimit-policy')).toContain(`"${policy}";q=${limit};`);
  expect(answer.headers.get('ratelimit')).toContain(`"${policy}";r=0;`);
  expect(answer.headers.get('x-ratelimit-limit')).toBe(String(limit));
  expect(answer.headers.get('x-ratelimit-remaining')).toBe('0');
  expect(Number(answer.headers.get('x-ratelimit-reset'))).toBeGreaterThanOrEqual(1);
}

/**
 * Sends one by one until the first 429 (at most `limit + 20`), and returns how many passed and
 * how many a token bucket may have refilled meanwhile (`limit` per `windowSeconds`).
 */
async function untilLimited(send: (i: number) => Promise<Reply>, limit: number, windowSeconds: number) {
  const started = performance.now();
  for (let i = 0; i < limit + 20; i++) {
    const answer = await send(i);
    if (answer.status === 429) {
      const refilled = Math.ceil((((performance.now() - started) / 1000) * limit) / windowSeconds);
      return { passed: i, refilled, answer };
    }
    expect(answer.status).toBeLessThan(400);
  }
  throw new Error(`no 429 after ${limit + 20} requests`);
}

/** Credits a wallet through an invoice and Telegram, waiting out the webhook's limit if need be. */
async function fundPatiently(url: string, id: string, stars: number) {
  const invoice = await user(url, id).invoice(stars, newKey());
  expect(invoice.status).toBe(201);
  for (let attempt = 0; attempt < 10; attempt++) {
    const paid = await telegram(url, paymentUpdate(invoice.json.payload, stars, 10_000 + attempt));
    if (paid.status === 200) return;
    expect(paid.status).toBe(429);
    await sleep(Number(paid.headers.get('retry-after')) * 1000);
  }
  throw new Error('the webhook stayed limited');
}

describe.each(configurations)('the seed limits on %s', (_name, open) => {
  let service: RunningService;
  let dispose: () => void;

  beforeAll(async () => {
    const opened = await open();
    dispose = opened.dispose;
    service = await startService(opened.env);
  });
  afterAll(async () => {
    await service.close();
    dispose();
  });

  it('Global /integrations/telegram/payments: 100 requests per 60s, then 429', async () => {
    const { passed, refilled, answer } = await untilLimited(
      (i) =>
        telegram(service.url, {
          update_id: i,
          message: { message_id: i, date: 1, chat: { id: 1, type: 'private' } },
        }),
      100,
      60,
    );
    expect(passed).toBeGreaterThanOrEqual(100);
    expect(passed).toBeLessThanOrEqual(100 + refilled);
    expectLimited(answer, 'telegram-webhook', 100);
  });

  it('Per user POST /api/streamers: 5 requests per 10m, then 429 for that user only', async () => {
    const u1 = user(service.url, 'u1');
    for (let i = 0; i < 5; i++) expect((await u1.submit()).status).toBe(201);
    expectLimited(await u1.submit(), 'streamer-submit', 5);
    expect((await user(service.url, 'u2').submit()).status).toBe(201);
  });

  it('Per user createInvoice: 3 requests per 5m, then 429', async () => {
    const u3 = user(service.url, 'u3');
    expect((await u3.invoice(10)).status).toBe(201);
    expect((await u3.invoice(11)).status).toBe(201);
    expect((await u3.invoice(12)).status).toBe(201);
    expectLimited(await u3.invoice(13), 'invoice', 3);
  });

  it('Per user withdraw: 2 requests per hour, then 429', async () => {
    await fundPatiently(service.url, 'u4', 100);
    const u4 = user(service.url, 'u4');
    expect((await u4.withdraw({ stars: 1, destination: 'ton:a' })).status).toBe(201);
    expect((await u4.withdraw({ stars: 1, destination: 'ton:a' })).status).toBe(201);
    expectLimited(await u4.withdraw({ stars: 1, destination: 'ton:a' }), 'withdraw', 2);
    expect((await u4.wallet()).json.balance).toBe(98);
  });

  it('Per user per streamer votes: the 31st in a minute is 429 while another streamer passes', async () => {
    await fundPatiently(service.url, 'u5', 100);
    const [a, b] = [await newStreamer(service.url, 'u6'), await newStreamer(service.url, 'u6')];
    const u5 = user(service.url, 'u5');
    const first = await u5.vote({ streamer_id: a, stars: 1 });
    expect(first.status).toBe(201);
    expect(first.headers.get('x-ratelimit-limit')).toBe('30');
    for (let i = 1; i < 30; i++) expect((await u5.vote({ streamer_id: a, stars: 1 })).status).toBe(201);
    expectLimited(await u5.vote({ streamer_id: a, stars: 1 }), 'vote', 30);
    expect((await u5.vote({ streamer_id: b, stars: 1 })).status).toBe(201);
    expect((await user(service.url, 'u7').vote({ streamer_id: a, stars: 1 })).status).toBe(402); // its own counter: no stars, not limited
    expect((await u5.wallet()).json.balance).toBe(69);
  });

  it('Per worker /internal/worker/*: 120 requests per 60s over all three routes, then 429 for that worker', async () => {
    const streamer = await newStreamer(service.url, 'u8');
    const w1 = worker(service.url, 'w1');
    const routes = [
      () => w1.status({ streamer_id: streamer, status: 'live', viewers: 1 }),
      () =>
        w1.events([
          {
            streamer_id: streamer,
            external_id: newKey(),
            type: 'follow',
            occurred_at: '2026-01-01T00:00:00Z',
          },
        ]),
      () => w1.media([{ id: newKey(), streamer_id: streamer, url: 'https://clips.example/x' }]),
    ];
    const { passed, refilled, answer } = await untilLimited((i) => routes[i % 3]!(), 120, 60);
    expect(passed).toBeGreaterThanOrEqual(120);
    expect(passed).toBeLessThanOrEqual(120 + refilled);
    expectLimited(answer, 'worker-batch', 120);
    expect(
      (await worker(service.url, 'w2').status({ streamer_id: streamer, status: 'offline' })).status,
    ).toBe(200);
  });

  // Issue 11: "a retry with the same key … spends none of the route's limit". Fails today where
  // the admission cannot see the key (a SQL truth, claimed in the handler's transaction): a
  // refused admission looks only into a Redis replay cache before answering 429.
  it('replays spend none of the limit, before it is spent and after: createInvoice, withdraw, vote', async () => {
    await fundPatiently(service.url, 'u9', 100);
    const streamer = await newStreamer(service.url, 'u8');
    const u9 = user(service.url, 'u9');
    const keys = { invoice: newKey(), withdraw: newKey(), vote: newKey() };
    const firsts = {
      invoice: await u9.invoice(5, keys.invoice),
      withdraw: await u9.withdraw({ stars: 1, destination: 'ton:a' }, keys.withdraw),
      vote: await u9.vote({ streamer_id: streamer, stars: 1 }, keys.vote),
    };
    for (const first of Object.values(firsts)) expect(first.status).toBe(201);
    // Three replays each, then the rest of the limit is still there for new requests.
    for (let i = 0; i < 3; i++) {
      expect((await u9.invoice(5, keys.invoice)).headers.get('idempotent-replayed')).toBe('true');
      expect((await u9.withdraw({ stars: 1, destination: 'ton:a' }, keys.withdraw)).status).toBe(201);
    }
    expect((await u9.invoice(6)).status).toBe(201); // the third: one went to fundPatiently
    expect((await u9.withdraw({ stars: 1, destination: 'ton:a' })).status).toBe(201);
    const spend = async (send: (i: number) => Promise<{ status: number }>) => {
      for (let i = 0; i < 40; i++) if ((await send(i)).status === 429) return;
      throw new Error('no 429 after 40 requests');
    };
    await spend((i) => u9.invoice(10 + i)); // distinct requests: distinct generated keys
    await spend(() => u9.withdraw({ stars: 1, destination: 'ton:a' }));
    await spend(() => u9.vote({ streamer_id: streamer, stars: 1 }));
    const replays = {
      invoice: await u9.invoice(5, keys.invoice),
      withdraw: await u9.withdraw({ stars: 1, destination: 'ton:a' }, keys.withdraw),
      vote: await u9.vote({ streamer_id: streamer, stars: 1 }, keys.vote),
    };
    for (const name of ['invoice', 'withdraw', 'vote'] as const) {
      expect([name, replays[name].status, replays[name].text]).toEqual([name, 201, firsts[name].text]);
    }
  });
});
