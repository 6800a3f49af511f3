/**
 * Workers' batches exactly once per item, status without churn, and hostile input on every
 * route answered 400/422 problem+json with nothing written — on both configurations.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  call,
  configurations,
  fund,
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

const roomy = {
  LIMITS_STREAMER_SUBMIT_PER10M: '1000',
  LIMITS_INVOICE_PER5M: '1000',
  LIMITS_WITHDRAW_PER_HOUR: '1000',
  LIMITS_TELEGRAM_WEBHOOK_PER_MIN: '1000',
  LIMITS_WORKER_BATCH_PER_MIN: '1000',
};

const event = (streamer: string, externalId: string) => ({
  streamer_id: streamer,
  external_id: externalId,
  type: 'follow',
  occurred_at: '2026-01-02T03:04:05Z',
  data: { user: 'viewer-1' },
});
const clip = (streamer: string, id: string) => ({
  id,
  streamer_id: streamer,
  url: 'https://clips.example/c',
  title: 'A clip',
  duration_s: 30,
});

describe.each(configurations)('ingestion and input on %s', (_name, open) => {
  let service: RunningService;
  let dispose: () => void;
  let streamer: string;
  const tables = [
    'streamers',
    'wallets',
    'wallet_ledger',
    'votes',
    'withdrawals',
    'invoices',
    'payments',
    'events',
    'media_clips',
  ];
  const count = async (table: string, where = 'true', params: unknown[] = []) =>
    Number(
      (
        await service.services.database.query<{ n: string }>(
          `SELECT count(*)::text AS n FROM ${table} WHERE ${where}`,
          params,
        )
      )[0]!.n,
    );
  const snapshot = async () => Promise.all(tables.map((table) => count(table)));

  beforeAll(async () => {
    const opened = await open();
    dispose = opened.dispose;
    service = await startService({ ...opened.env, ...roomy });
    streamer = await newStreamer(service.url, 'u1');
    await fund(service.url, 'u1', 1000);
  });
  afterAll(async () => {
    await service.close();
    dispose();
  });

  it('events: duplicates within a batch and across batches are counted, not stored; the same key replays', async () => {
    const w = worker(service.url);
    const key = newKey();
    const batch = [event(streamer, 'e1'), event(streamer, 'e2'), event(streamer, 'e1')];
    const first = await w.events(batch, key);
    expect([first.status, first.json]).toEqual([200, { accepted: 2, duplicates: 1 }]);
    const replay = await w.events(batch, key);
    expect([replay.status, replay.text, replay.headers.get('idempotent-replayed')]).toEqual([
      200,
      first.text,
      'true',
    ]);
    const next = await w.events([event(streamer, 'e2'), event(streamer, 'e3')]);
    expect(next.json).toEqual({ accepted: 1, duplicates: 1 });
    const concurrent = await Promise.all(
      Array.from({ length: 8 }, () => w.events([event(streamer, 'e4'), event(streamer, 'e5')])),
    );
    const accepted = concurrent.reduce((sum, answer) => sum + (answer.json.accepted as number), 0);
    expect(accepted).toBe(2);
    expect(await count('events', 'streamer_id = $1', [streamer])).toBe(5);
    expect((await user(service.url, 'u1').streamer(streamer)).json.event_count).toBe(5);
  });

  it('overlapping batches sent in opposite orders at once never deadlock (every one answers 200)', async () => {
    const w = worker(service.url, 'w1');
    const own = await newStreamer(service.url, 'u1'); // the other tests count their streamer's rows
    for (let round = 0; round < 6; round++) {
      const events = Array.from({ length: 300 }, (_, i) => event(own, `overlap-${round}-${i}`));
      const clips = Array.from({ length: 300 }, (_, i) => clip(own, `clip_overlap_${round}_${i}`));
      const answers = await Promise.all([
        w.events(events),
        w.events([...events].reverse()),
        w.media(clips),
        w.media([...clips].reverse()),
      ]);
      expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200]);
      expect(answers[0]!.json.accepted + answers[1]!.json.accepted).toBe(300);
      expect(answers[2]!.json.accepted + answers[3]!.json.accepted).toBe(300);
    }
  });

  it('media: clip ids are stored once; a batch naming an unknown streamer is 422 and writes nothing', async () => {
    const w = worker(service.url, 'w2');
    const first = await w.media([
      clip(streamer, 'clip-1'),
      clip(streamer, 'clip-2'),
      clip(streamer, 'clip-1'),
    ]);
    expect(first.json).toEqual({ accepted: 2, duplicates: 1 });
    expect((await w.media([clip(streamer, 'clip-2')])).json).toEqual({ accepted: 0, duplicates: 1 });
    const before = await snapshot();
    const refused = await w.media([clip(streamer, 'clip-3'), clip('str_nobody', 'clip-4')]);
    expect(refused.status).toBe(422);
    expect(refused.json).toMatchObject({
      type: 'https://tollgate.dev/problems/unknown-streamer',
      unknown_streamers: ['str_nobody'],
    });
    const key = newKey();
    const refusedEvents = await w.events([event(streamer, 'e9'), event('str_nobody', 'e10')], key);
    expect(refusedEvents.status).toBe(422);
    expect(await snapshot()).toEqual(before);
    // Refused before its key was claimed: the key is free for the batch that can be written.
    expect((await w.events([event(streamer, 'e9')], key)).json).toEqual({ accepted: 1, duplicates: 0 });
    expect((await user(service.url, 'u1').streamer(streamer)).json.clip_count).toBe(2);
  });

  it('status: the same key within 5 minutes replays and updated_at does not move', async () => {
    const w = worker(service.url, 'w3');
    const key = newKey();
    const first = await w.status({ streamer_id: streamer, status: 'live', viewers: 120 }, key);
    expect(first.status).toBe(200);
    expect(first.json).toMatchObject({ streamer_id: streamer, status: 'live', viewers: 120 });
    const seen = (await user(service.url, 'u1').streamer(streamer)).json.updated_at;
    expect(seen).toBe(first.json.updated_at);
    await new Promise((resolve) => setTimeout(resolve, 20));
    for (let i = 0; i < 3; i++) {
      const again = await w.status({ streamer_id: streamer, status: 'live', viewers: 120 }, key);
      expect([again.status, again.text, again.headers.get('idempotent-replayed')]).toEqual([
        200,
        first.text,
        'true',
      ]);
    }
    expect((await user(service.url, 'u1').streamer(streamer)).json.updated_at).toBe(seen);
    const offline = await w.status({ streamer_id: streamer, status: 'offline' });
    expect(offline.json).toMatchObject({ status: 'offline', viewers: 0 });
    expect(offline.json.updated_at > seen).toBe(true);
    expect((await w.status({ streamer_id: 'str_nobody', status: 'live' })).status).toBe(422);
  });

  it('workers and users are told apart: a user key is 401 on worker routes and the other way round', async () => {
    const asUser = await call(service.url, 'POST', '/internal/worker/events', {
      headers: { authorization: 'Bearer key-u1', 'x-idempotency-key': newKey() },
      body: { events: [event(streamer, 'x')] },
    });
    expect(asUser.status).toBe(401);
    const asWorker = await call(service.url, 'GET', '/api/wallet', {
      headers: { authorization: 'Bearer wkey-w1' },
    });
    expect(asWorker.status).toBe(401);
  });

  const long = (n: number) => 'x'.repeat(n);
  type Case = [string, () => Promise<Reply>, number];
  const u = () => user(service.url, 'u1');
  const w = () => worker(service.url, 'w4');
  const update = (change: (body: ReturnType<typeof paymentUpdate>) => unknown) =>
    telegram(service.url, change(paymentUpdate('pay_x', 5, 900)));
  const cases: Case[] = [
    ['a streamer without a name', () => u().submit({ platform: 'twitch', channel: 'c' }), 400],
    [
      'a streamer name with a NUL byte',
      () => u().submit({ name: 'a\u0000b', platform: 'twitch', channel: 'c' }),
      400,
    ],
    [
      'a streamer name with a lone surrogate',
      () => u().submit({ name: 'a\ud800b', platform: 'twitch', channel: 'c' }),
      400,
    ],
    [
      'a streamer name of 101 characters',
      () => u().submit({ name: long(101), platform: 'twitch', channel: 'c' }),
      400,
    ],
    ['an unknown platform', () => u().submit({ name: 'A', platform: 'tiktok', channel: 'c' }), 400],
    [
      'stars with more precision than JSON.parse keeps (read as 1, it would vote 1)',
      () =>
        call(service.url, 'POST', '/api/votes', {
          headers: { authorization: 'Bearer key-u1', 'idempotency-key': newKey() },
          raw: '{"streamer_id": "str_x", "stars": 1.0000000000000000001}',
        }),
      400,
    ],
    [
      'an event datum JSON.parse would round (12345678901234567890)',
      () =>
        call(service.url, 'POST', '/internal/worker/events', {
          headers: { authorization: 'Bearer wkey-w4', 'x-idempotency-key': newKey() },
          raw: '{"events": [{"streamer_id": "str_x", "external_id": "e", "type": "follow", "occurred_at": "2026-01-02T03:04:05Z", "data": {"big": 12345678901234567890}}]}',
        }),
      400,
    ],
    ['a channel with spaces', () => u().submit({ name: 'A', platform: 'kick', channel: 'a b' }), 400],
    [
      'an unknown streamer field',
      () => u().submit({ name: 'A', platform: 'kick', channel: 'c', id: 'str_x' }),
      400,
    ],
    ['a streamer as an array', () => u().submit([{ name: 'A', platform: 'kick', channel: 'c' }]), 400],
    [
      'duplicate JSON members',
      () =>
        call(service.url, 'POST', '/api/streamers', {
          headers: { authorization: 'Bearer key-u1' },
          raw: '{"name":"A","platform":"kick","channel":"c","channel":"d"}',
        }),
      400,
    ],
    [
      'a __proto__ member',
      () =>
        call(service.url, 'POST', '/api/streamers', {
          headers: { authorization: 'Bearer key-u1' },
          raw: '{"name":"A","platform":"kick","channel":"c","__proto__":{"x":1}}',
        }),
      400,
    ],
    [
      'malformed JSON',
      () =>
        call(service.url, 'POST', '/api/streamers', {
          headers: { authorization: 'Bearer key-u1' },
          raw: '{"name":',
        }),
      400,
    ],
    [
      'an empty body',
      () =>
        call(service.url, 'POST', '/api/streamers', { headers: { authorization: 'Bearer key-u1' }, raw: '' }),
      400,
    ],
    [
      'a text body',
      () =>
        call(service.url, 'POST', '/api/streamers', {
          headers: { authorization: 'Bearer key-u1', 'content-type': 'text/plain' },
          raw: 'name=A',
        }),
      415,
    ],
    [
      'a body over 1 MiB',
      () => u().submit({ name: 'A', platform: 'kick', channel: 'c', pad: long(1_100_000) }),
      413,
    ],
    [
      'a path parameter that is no valid URL escape (a lone surrogate)',
      () =>
        call(service.url, 'GET', '/api/streamers/%ED%A0%80', { headers: { authorization: 'Bearer key-u1' } }),
      400,
    ],
    [
      'a NUL in a path parameter',
      () => call(service.url, 'GET', '/api/streamers/%00', { headers: { authorization: 'Bearer key-u1' } }),
      400,
    ],
    [
      'bytes that are not UTF-8',
      () =>
        fetch(`${service.url}/api/streamers`, {
          method: 'POST',
          headers: { authorization: 'Bearer key-u1', 'content-type': 'application/json' },
          body: Buffer.from([0x7b, 0x22, 0x6e, 0x61, 0x6d, 0x65, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]),
        }).then(async (response) => ({
          status: response.status,
          headers: response.headers,
          text: '',
          json: await response.json(),
        })),
      400,
    ],
    [
      'a latin-1 charset',
      () =>
        call(service.url, 'POST', '/api/streamers', {
          headers: { authorization: 'Bearer key-u1', 'content-type': 'application/json; charset=latin1' },
          raw: '{"name":"A","platform":"kick","channel":"c"}',
        }),
      415,
    ],
    [
      'a gzip Content-Encoding',
      () =>
        call(service.url, 'POST', '/api/streamers', {
          headers: { authorization: 'Bearer key-u1', 'content-encoding': 'gzip' },
          raw: '{"name":"A","platform":"kick","channel":"c"}',
        }),
      415,
    ],
    [
      'event data nested 100,000 deep',
      () =>
        call(service.url, 'POST', '/internal/worker/events', {
          headers: { authorization: 'Bearer wkey-w4', 'x-idempotency-key': newKey() },
          raw: `{"events":[{"streamer_id":"str_x","external_id":"e","type":"x","occurred_at":"2026-01-01T00:00:00Z","data":{"a":${'['.repeat(100_000)}${']'.repeat(100_000)}}}]}`,
        }),
      400,
    ],
    ['stars as a string', () => u().vote({ streamer_id: 'str_x', stars: '5' }), 400],
    ['stars 0', () => u().vote({ streamer_id: 'str_x', stars: 0 }), 400],
    ['negative stars', () => u().withdraw({ stars: -5, destination: 'ton:a' }), 400],
    ['fractional stars', () => u().withdraw({ stars: 1.5, destination: 'ton:a' }), 400],
    ['huge stars', () => u().invoice(1e300, newKey()), 400],
    [
      'stars beyond 2^53 as JSON text',
      () =>
        call(service.url, 'POST', '/api/payments/stars/createInvoice', {
          headers: { authorization: 'Bearer key-u1', 'idempotency-key': newKey() },
          raw: '{"stars": 123456789012345678901234567890}',
        }),
      400,
    ],
    ['a vote without streamer_id', () => u().vote({ stars: 5 }), 400],
    ['a streamer id with a slash', () => u().vote({ streamer_id: '../x', stars: 5 }), 400],
    ['a vote with an unknown field', () => u().vote({ streamer_id: 'str_x', stars: 5, bonus: 1 }), 400],
    ['a vote for an unknown streamer', () => u().vote({ streamer_id: 'str_nobody', stars: 5 }), 404],
    ['a vote without Idempotency-Key', () => u().vote({ streamer_id: 'str_x', stars: 5 }, null), 400],
    ['a vote with a malformed key', () => u().vote({ streamer_id: 'str_x', stars: 5 }, 'short'), 400],
    ['a withdrawal without destination', () => u().withdraw({ stars: 5 }), 400],
    ['a destination with a newline', () => u().withdraw({ stars: 5, destination: 'a\nb' }), 400],
    ['a withdrawal beyond the balance', () => u().withdraw({ stars: 999_999, destination: 'ton:a' }), 402],
    ['an empty event batch', () => w().events([]), 400],
    ['501 events', () => w().events(Array.from({ length: 501 }, (_, i) => event('str_x', `e${i}`))), 400],
    [
      'an event without occurred_at',
      () => w().events([{ streamer_id: 'str_x', external_id: 'e', type: 'follow' }]),
      400,
    ],
    [
      'an event with a bad date',
      () => w().events([{ ...event('str_x', 'e'), occurred_at: 'yesterday' }]),
      400,
    ],
    [
      'an event in year 0',
      () => w().events([{ ...event('str_x', 'e'), occurred_at: '0000-01-01T00:00:00Z' }]),
      400,
    ],
    [
      'an event with a +23:59 offset',
      () => w().events([{ ...event('str_x', 'e'), occurred_at: '2026-01-01T00:00:00+23:59' }]),
      400,
    ],
    [
      'an event timed to the nanosecond (would be rounded)',
      () => w().events([{ ...event('str_x', 'e'), occurred_at: '2026-01-01T00:00:00.123456789Z' }]),
      400,
    ],
    ['an event type in capitals', () => w().events([{ ...event('str_x', 'e'), type: 'FOLLOW' }]), 400],
    ['event data as a list', () => w().events([{ ...event('str_x', 'e'), data: [1] }]), 400],
    ['event data with a NUL', () => w().events([{ ...event('str_x', 'e'), data: { a: 'x\u0000' } }]), 400],
    ['events without a key', () => w().events([event('str_x', 'e')], null), 400],
    [
      'a clip with a javascript: url',
      () => w().media([{ ...clip('str_x', 'c'), url: 'javascript:alert(1)' }]),
      400,
    ],
    ['a clip with a negative duration', () => w().media([{ ...clip('str_x', 'c'), duration_s: -1 }]), 400],
    ['a clip with an unknown field', () => w().media([{ ...clip('str_x', 'c'), views: 3 }]), 400],
    ['a status that is not live/offline', () => w().status({ streamer_id: 'str_x', status: 'away' }), 400],
    ['negative viewers', () => w().status({ streamer_id: 'str_x', status: 'live', viewers: -1 }), 400],
    ['an update without update_id', () => update(({ update_id: _, ...rest }) => rest), 400],
    ['an update_id as a string', () => update((body) => ({ ...body, update_id: '1' })), 400],
    [
      'a payment with a fractional amount',
      () =>
        update((body) => ({
          ...body,
          message: {
            ...body.message,
            successful_payment: { ...body.message.successful_payment, total_amount: 1.5 },
          },
        })),
      400,
    ],
    [
      'a payment without invoice_payload',
      () =>
        update((body) => {
          const { invoice_payload: _, ...payment } = body.message.successful_payment;
          return { ...body, message: { ...body.message, successful_payment: payment } };
        }),
      400,
    ],
    [
      'a payment with an empty invoice_payload',
      () =>
        update((body) => ({
          ...body,
          message: {
            ...body.message,
            successful_payment: { ...body.message.successful_payment, invoice_payload: '' },
          },
        })),
      400,
    ],
    [
      'a message without chat',
      () => update(({ message: { chat: _, ...message }, ...body }) => ({ ...body, message })),
      400,
    ],
    ['an unknown route', () => call(service.url, 'POST', '/api/nothing', { body: {} }), 404],
  ];
  it.each(cases)('answers %s with problem+json and writes nothing', async (_case, send, status) => {
    const before = await snapshot();
    const answer = await send();
    expect(answer.status).toBe(status);
    expect(answer.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(answer.json).toMatchObject({
      status,
      type: expect.stringMatching(/^https:\/\/tollgate\.dev\/problems\/[a-z-]+$/),
    });
    expect(await snapshot()).toEqual(before);
  });

  it('answers a known path with a method it does not take 405 with Allow', async () => {
    const wrong = await call(service.url, 'DELETE', '/api/wallet');
    expect([wrong.status, wrong.headers.get('allow')]).toEqual([405, 'GET, HEAD']);
    const worker = await call(service.url, 'GET', '/internal/worker/events');
    expect([worker.status, worker.headers.get('allow'), worker.json.type]).toEqual([
      405,
      'POST',
      'https://tollgate.dev/problems/method-not-allowed',
    ]);
  });

  it('names the header a route reads its key from when it is missing or malformed', async () => {
    const missing = await w().events([event('str_x', 'e')], null);
    expect(missing.json.detail).toBe('The route requires an X-Idempotency-Key header.');
    const malformed = await w().events([event('str_x', 'e')], 'short');
    expect(malformed.json.detail).toMatch(/^The X-Idempotency-Key header is malformed: /);
    expect((await u().vote({ streamer_id: 'str_x', stars: 5 }, null)).json.detail).toBe(
      'The route requires an Idempotency-Key header.',
    );
  });

  it('serves /health and /metrics', async () => {
    const health = await call(service.url, 'GET', '/health');
    expect(health.status).toBe(200);
    expect(health.json.status).toBe('healthy');
    const metrics = await call(service.url, 'GET', '/metrics');
    expect(metrics.text).toContain('http_request_duration_seconds');
    expect(metrics.text).toContain('stars_moved_total{kind="credit"}');
  });
});
