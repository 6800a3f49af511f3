/**
 * Every endpoint and error of the service over a real port, on the embedded default (PGlite on
 * disk, limits in memory) and on PostgreSQL + Redis.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, keyPrefix, redisUrl } from '../../../testkit/index.ts';
import { parseRawResponse, rawExchange } from '../../../testkit/raw-http.ts';
import { newKey, pay, paymentBody, type RunningService, scratchDir, startService } from './service.ts';

const API_KEYS = 'key-alice:alice,key-bob:bob,key-carol:carol,key-dave:dave,key-erin:erin';

// biome-ignore lint/suspicious/noExplicitAny: answers are JSON whose shape the assertions check
type Json = any;
const json = (response: Response): Promise<Json> => response.json() as Promise<Json>;

const configurations: [string, () => Promise<{ env: Record<string, string>; dispose(): void }>][] = [
  [
    'the embedded default (PGlite on disk, memory limits)',
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

describe.each(configurations)('payments service on %s', (_name, open) => {
  let service: RunningService;
  let dispose: () => void;
  let env: Record<string, string>;
  /** `run` against a service of its own (its own data or Redis prefix) with `extra` settings. */
  const withOwnService = async (
    extra: Record<string, string>,
    run: (service: RunningService) => Promise<void>,
  ) => {
    const dir = env.DATA_DIR === undefined ? undefined : scratchDir();
    const service = await startService({
      ...env,
      ...(dir ? { DATA_DIR: dir.path } : { REDIS_KEY_PREFIX: keyPrefix() }),
      ...extra,
    });
    try {
      await run(service);
    } finally {
      await service.close();
      dir?.dispose();
    }
  };

  const count = async (table: string, where = 'true', params: unknown[] = []) =>
    Number(
      (
        await service.services.database.query<{ n: string }>(
          `SELECT count(*)::text AS n FROM ${table} WHERE ${where}`,
          params,
        )
      )[0]!.n,
    );
  const get = (path: string, apiKey = 'key-alice') =>
    fetch(service.url + path, { headers: { authorization: `Bearer ${apiKey}` } });

  beforeAll(async () => {
    const opened = await open();
    env = { ...opened.env, API_KEYS };
    dispose = opened.dispose;
    service = await startService(env);
  });
  afterAll(async () => {
    await service.close();
    dispose();
  });

  it('creates a payment (201, the amount as sent, integer minor units stored) and replays it byte for byte', async () => {
    const key = newKey();
    const first = await pay(service.url, { key });
    expect(first.status).toBe(201);
    const payment = JSON.parse(first.text);
    expect(payment).toMatchObject({
      status: 'succeeded',
      amount: 99.99,
      currency: 'USD',
      payment_method: 'credit_card',
      description: 'Premium subscription',
      metadata: { customer_id: 'cust_123', order_id: 'ord_456' },
    });
    expect(payment.transaction_id).toMatch(/^txn_[0-9a-f]{32}$/);
    expect(new Date(payment.created_at).toISOString()).toBe(payment.created_at);
    expect(first.headers.get('location')).toBe(`/api/v1/payments/${payment.transaction_id}`);
    expect(first.headers.get('x-ratelimit-limit')).toBe('10');
    const [row] = await service.services.database.query<{ amount_minor: string; status: string }>(
      'SELECT amount_minor::text, status FROM payments WHERE transaction_id = $1',
      [payment.transaction_id],
    );
    expect(row).toEqual({ amount_minor: '9999', status: 'succeeded' });

    const again = await pay(service.url, {
      key,
      body: { ...paymentBody, metadata: { order_id: 'ord_456', customer_id: 'cust_123' } },
    });
    expect([again.status, again.text, again.headers.get('idempotent-replayed')]).toEqual([
      201,
      first.text,
      'true',
    ]);
    expect(await count('payments', 'transaction_id = $1', [payment.transaction_id])).toBe(1);
    expect(
      await count('processor_charges', 'downstream_key = $1', [`payments:${payment.transaction_id}`]),
    ).toBe(1);
    const read = await get(`/api/v1/payments/${payment.transaction_id}`);
    expect([read.status, await read.json()]).toEqual([200, payment]);

    // Seed 001's retry leaves the metadata out: the same payment, replayed as made.
    const { metadata: _, ...withoutMetadata } = paymentBody;
    for (const body of [withoutMetadata, { ...paymentBody, metadata: { order_id: 'other' } }]) {
      const retried = await pay(service.url, { key, body });
      expect([retried.status, retried.text, retried.headers.get('idempotent-replayed')]).toEqual([
        201,
        first.text,
        'true',
      ]);
    }
  });

  it('keeps each currency exact: JPY without decimals, BHD with three', async () => {
    for (const [amount, currency, minor] of [
      [500, 'JPY', '500'],
      [1.234, 'BHD', '1234'],
      [0.1, 'EUR', '10'],
    ] as const) {
      const answer = await pay(service.url, {
        key: newKey(),
        body: { amount, currency, payment_method: 'wallet' },
      });
      expect(answer.status).toBe(201);
      const { transaction_id, amount: echoed } = JSON.parse(answer.text);
      expect(echoed).toBe(amount);
      const [row] = await service.services.database.query<{ amount_minor: string }>(
        'SELECT amount_minor::text FROM payments WHERE transaction_id = $1',
        [transaction_id],
      );
      expect(row!.amount_minor).toBe(minor);
    }
  });

  const long = (n: number) => 'x'.repeat(n);
  const bad: [string, Partial<Parameters<typeof pay>[1]> & { status: number; field?: string }][] = [
    ['amount as a string', { body: { ...paymentBody, amount: '99.99' }, status: 400, field: '/amount' }],
    ['no amount', { body: { currency: 'USD', payment_method: 'wallet' }, status: 400, field: '/amount' }],
    ['amount 0', { body: { ...paymentBody, amount: 0 }, status: 422, field: '/amount' }],
    ['a negative amount', { body: { ...paymentBody, amount: -5 }, status: 422, field: '/amount' }],
    ['three decimals in USD', { body: { ...paymentBody, amount: 1.001 }, status: 422, field: '/amount' }],
    [
      'decimals in JPY',
      { body: { ...paymentBody, currency: 'JPY', amount: 1.5 }, status: 422, field: '/amount' },
    ],
    [
      'an amount above the maximum',
      { body: { ...paymentBody, amount: 1e10 }, status: 422, field: '/amount' },
    ],
    ['a tiny amount', { body: { ...paymentBody, amount: 1e-7 }, status: 422, field: '/amount' }],
    ['a lower-case currency', { body: { ...paymentBody, currency: 'usd' }, status: 400, field: '/currency' }],
    ['an unknown currency', { body: { ...paymentBody, currency: 'XYZ' }, status: 422, field: '/currency' }],
    ['no currency', { body: { amount: 5, payment_method: 'wallet' }, status: 400, field: '/currency' }],
    [
      'an unknown payment method',
      { body: { ...paymentBody, payment_method: 'cash' }, status: 400, field: '/payment_method' },
    ],
    ['no payment method', { body: { amount: 5, currency: 'USD' }, status: 400, field: '/payment_method' }],
    [
      'a description too long',
      { body: { ...paymentBody, description: long(501) }, status: 400, field: '/description' },
    ],
    [
      'a description that is a number',
      { body: { ...paymentBody, description: 5 }, status: 400, field: '/description' },
    ],
    [
      'metadata with a number',
      { body: { ...paymentBody, metadata: { a: 1 } }, status: 400, field: '/metadata/a' },
    ],
    [
      'metadata with 21 entries',
      {
        body: {
          ...paymentBody,
          metadata: Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`k${i}`, 'v'])),
        },
        status: 400,
        field: '/metadata',
      },
    ],
    [
      'a metadata key too long',
      { body: { ...paymentBody, metadata: { [long(41)]: 'v' } }, status: 400, field: '/metadata' },
    ],
    ['a metadata value too long', { body: { ...paymentBody, metadata: { k: long(501) } }, status: 400 }],
    ['metadata as a list', { body: { ...paymentBody, metadata: ['a'] }, status: 400, field: '/metadata' }],
    [
      'an unknown field',
      { body: { ...paymentBody, amount_cents: 9999 }, status: 400, field: '/amount_cents' },
    ],
    ['a JSON array body', { body: [paymentBody], status: 400 }],
    ['malformed JSON', { raw: '{"amount": 99.99,', status: 400 }],
    ['an empty body', { raw: '', status: 400 }],
    ['a text body', { raw: 'amount=5', headers: { 'content-type': 'text/plain' }, status: 415 }],
    ['a body over 1 MiB', { body: { ...paymentBody, description: long(1_100_000) }, status: 413 }],
    ['no idempotency key', { key: undefined, status: 400 }],
    ['a malformed idempotency key', { key: 'too-short', status: 400 }],
    ['no API key', { headers: { authorization: '' }, status: 401 }],
    ['an unknown API key', { apiKey: 'key-mallory', status: 401 }],
  ];
  it.each(bad)(
    'answers %s with problem+json and writes nothing',
    async (_case, { status, field, ...call }) => {
      const before = await Promise.all(
        ['payments', 'audit_logs', 'processor_charges', 'tollgate_idempotency'].map((t) => count(t)),
      );
      const answer = await pay(service.url, { key: newKey(), ...call });
      expect(answer.status).toBe(status);
      expect(answer.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      const problem = JSON.parse(answer.text);
      expect(problem).toMatchObject({
        status,
        type: expect.stringMatching(/^https:\/\/tollgate\.dev\/problems\/[a-z-]+$/),
      });
      expect(problem.title.length * problem.detail.length).toBeGreaterThan(0);
      if (field) expect(problem.errors.map((e: { field: string }) => e.field)).toContain(field);
      if (status === 401) expect(answer.headers.get('www-authenticate')).toMatch(/^Bearer/);
      const after = await Promise.all(
        ['payments', 'audit_logs', 'processor_charges', 'tollgate_idempotency'].map((t) => count(t)),
      );
      expect(after).toEqual(before);
    },
  );

  it('answers a key reused with another body 422 and leaves the first payment alone', async () => {
    const key = newKey();
    const first = await pay(service.url, { key });
    for (const changed of [
      { amount: 10 },
      { currency: 'EUR' },
      { payment_method: 'wallet' },
      { description: 'something else' },
    ]) {
      const reused = await pay(service.url, { key, body: { ...paymentBody, ...changed } });
      expect(reused.status).toBe(422);
      expect(JSON.parse(reused.text).type).toBe('https://tollgate.dev/problems/idempotency-key-mismatch');
    }
    expect((await pay(service.url, { key })).text).toBe(first.text);
  });

  it('scopes keys and payments per principal: the same key is two payments, and nobody reads another’s', async () => {
    const key = newKey();
    const alice = JSON.parse((await pay(service.url, { key })).text);
    const bob = await pay(service.url, { key, apiKey: 'key-bob' });
    expect(bob.status).toBe(201);
    expect(bob.headers.get('idempotent-replayed')).toBeNull();
    expect(JSON.parse(bob.text).transaction_id).not.toBe(alice.transaction_id);
    const stolen = await get(`/api/v1/payments/${alice.transaction_id}`, 'key-bob');
    expect(stolen.status).toBe(404);
    expect(stolen.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect((await get('/api/v1/payments/txn_00000000000000000000000000000000')).status).toBe(404);
    expect((await get(`/api/v1/payments/${alice.transaction_id}`, 'key-wrong')).status).toBe(401);
  });

  it('limits new payments per user (429 with Retry-After), while replays cost nothing; /rate-limits peeks', async () => {
    const limits = async () => {
      const response = await get('/api/v1/rate-limits', 'key-carol');
      expect(response.status).toBe(200);
      const body = await json(response);
      return Object.fromEntries(
        body.policies.map((p: { name: string; remaining: number }) => [p.name, p.remaining]),
      );
    };
    const before = await limits();
    expect(await limits()).toEqual(before); // asking consumes nothing
    expect(before).toMatchObject({ payments: 10, 'per-user': 100, burst: 50 });
    const first = newKey();
    for (let i = 0; i < 10; i++)
      expect((await pay(service.url, { key: i === 0 ? first : newKey(), apiKey: 'key-carol' })).status).toBe(
        201,
      );
    const replay = await pay(service.url, { key: first, apiKey: 'key-carol' });
    expect([replay.status, replay.headers.get('idempotent-replayed')]).toEqual([201, 'true']);
    const limited = await pay(service.url, { key: newKey(), apiKey: 'key-carol' });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(JSON.parse(limited.text)).toMatchObject({
      type: 'https://tollgate.dev/problems/rate-limited',
      policies: ['payments'],
    });
    // Ten payments and the replay spent per-user; the 429 spent nothing of any policy.
    expect(await limits()).toMatchObject({ payments: 0, 'per-user': 100 - 11 });
    const metrics = await (await fetch(`${service.url}/metrics`)).text();
    expect(metrics).toMatch(/^rate_limit_exceeded_total\{route="\/api\/v1\/payments"\} [1-9]/m);
  });

  it('charges refused payment requests to the limits every request pays, never payments', async () => {
    const limits = async () => {
      const body = await json(await get('/api/v1/rate-limits', 'key-dave'));
      return Object.fromEntries(
        body.policies.map((p: { name: string; remaining: number }) => [p.name, p.remaining]),
      );
    };
    const refusals = [
      { body: { ...paymentBody, amount: 'ten' } }, // the schema: 400
      { body: { ...paymentBody, amount: 0.001 } }, // the amount: 422
      { body: { ...paymentBody, currency: 'ZZZ' } }, // the currency: 422
      { raw: '{"amount": 1,' }, // not JSON: 400
      { key: 'short' }, // a malformed key: 400
    ];
    for (const refusal of refusals) {
      const answer = await pay(service.url, { key: newKey(), apiKey: 'key-dave', ...refusal });
      expect([400, 422], answer.text).toContain(answer.status);
      expect(answer.headers.get('ratelimit-policy'), answer.text).toMatch(/"per-user"/);
    }
    expect(await limits()).toMatchObject({ payments: 10, 'per-user': 100 - 5 });
    expect(await count('payments', 'principal = $1', ['dave'])).toBe(0);
  });

  it('answers refusals 429 once they have spent the caller’s limit, and the caller’s payments too; others pay on', async () => {
    // Its own service with a per-user limit of 3 an hour: no refill during the test.
    await withOwnService(
      {
        RATE_LIMIT_USER: '3',
        RATE_LIMIT_USER_WINDOW_S: '3600',
      },
      async (tight) => {
        const refuse = () =>
          pay(tight.url, { key: newKey(), apiKey: 'key-dave', body: { ...paymentBody, amount: 0.001 } });
        for (let i = 0; i < 3; i++) expect((await refuse()).status).toBe(422);
        const spent = await refuse();
        expect([spent.status, JSON.parse(spent.text).policies]).toEqual([429, ['per-user']]);
        const limited = await pay(tight.url, { key: newKey(), apiKey: 'key-dave' });
        expect([limited.status, JSON.parse(limited.text).policies]).toEqual([429, ['per-user']]);
        expect((await pay(tight.url, { key: newKey(), apiKey: 'key-erin' })).status).toBe(201);
      },
    );
  });

  it('bounds requests without a valid API key per address (401, then 429 per-ip); valid keys are untouched', async () => {
    await withOwnService(
      {
        RATE_LIMIT_IP: '4',
        RATE_LIMIT_IP_WINDOW_S: '3600',
      },
      async (guarded) => {
        const guess = (path: string, key: string | undefined) =>
          fetch(`${guarded.url}${path}`, {
            headers: key === undefined ? {} : { authorization: `Bearer ${key}` },
          });
        // Two Authorization headers (Node reads the first, a proxy might read the last): no key at
        // all, refused 400 — and paid for like any request without a valid key.
        const twice = parseRawResponse(
          await rawExchange(
            guarded.url,
            'GET /api/v1/rate-limits HTTP/1.1\r\nHost: x\r\nauthorization: Bearer key-alice\r\nAuthorization: Bearer key-bob\r\nConnection: close\r\n\r\n',
          ),
        );
        expect([twice.status, twice.headers['x-ratelimit-remaining'], twice.body.detail]).toEqual([
          400,
          '3',
          'Send one Authorization header, not several.',
        ]);
        const paths = ['/api/v1/rate-limits', '/api/v1/payments/txn_guess', '/api/v1/audit-logs'];
        for (const [i, path] of paths.entries()) {
          const refused = await guess(path, i === 1 ? undefined : `sk_guess_${i}`);
          expect([refused.status, refused.headers.get('www-authenticate')]).toEqual([
            401,
            'Bearer realm="payments"',
          ]);
          expect(refused.headers.get('x-ratelimit-remaining')).toBe(String(2 - i));
        }
        for (const path of paths) {
          const limited = await guess(path, 'sk_guess_again');
          const problem = await json(limited);
          expect([limited.status, problem.policies, problem.type]).toEqual([
            429,
            ['per-ip'],
            expect.stringMatching(/rate-limited$/),
          ]);
          expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
        }
        // A valid key from the same address is never counted by, nor refused for, per-ip.
        expect((await guess('/api/v1/rate-limits', 'key-alice')).status).toBe(200);
        expect((await pay(guarded.url, { key: newKey(), apiKey: 'key-alice' })).status).toBe(201);
      },
    );
  });

  it('counts per-ip per client behind a trusted proxy (TRUST_PROXY), by X-Forwarded-For', async () => {
    await withOwnService(
      {
        RATE_LIMIT_IP: '1',
        RATE_LIMIT_IP_WINDOW_S: '3600',
        TRUST_PROXY: '127.0.0.1',
      },
      async (proxied) => {
        const guess = (client: string) =>
          fetch(`${proxied.url}/api/v1/rate-limits`, {
            headers: { authorization: 'Bearer guess', 'x-forwarded-for': client },
          }).then((answer) => answer.status);
        expect([await guess('203.0.113.1'), await guess('203.0.113.1')]).toEqual([401, 429]);
        expect(await guess('203.0.113.2')).toBe(401); // another client behind the same proxy
      },
    );
  });

  it('keeps an append-only audit trail, newest first, per caller, paginated', async () => {
    const key = newKey();
    const { transaction_id } = JSON.parse((await pay(service.url, { key, apiKey: 'key-bob' })).text);
    const page = await json(await get('/api/v1/audit-logs?limit=2', 'key-bob'));
    expect(
      page.items.map((e: { action: string; transaction_id: string }) => [e.action, e.transaction_id]),
    ).toEqual([
      ['payment.succeeded', transaction_id],
      ['payment.created', transaction_id],
    ]);
    expect(page.next_cursor).toMatch(/^\d+$/);
    const older = await json(await get(`/api/v1/audit-logs?limit=100&cursor=${page.next_cursor}`, 'key-bob'));
    const ids = [...page.items, ...older.items].map((e: { id: string }) => Number(e.id));
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
    const mine = await json(await get('/api/v1/audit-logs?limit=100', 'key-alice'));
    expect(mine.items.some((e: { transaction_id: string }) => e.transaction_id === transaction_id)).toBe(
      false,
    );
    for (const q of ['limit=0', 'limit=101', 'limit=x', 'cursor=-1', 'other=1']) {
      expect((await get(`/api/v1/audit-logs?${q}`, 'key-bob')).status).toBe(400);
    }
    const db = service.services.database;
    await expect(db.query("UPDATE audit_logs SET action = 'x'")).rejects.toThrow(/append-only/);
    await expect(db.query('DELETE FROM audit_logs')).rejects.toThrow(/append-only/);
    await expect(db.query('TRUNCATE audit_logs')).rejects.toThrow(/append-only/);
  });

  it('simulates N concurrent requests with one key over HTTP: one payment, the rest replays or conflicts', async () => {
    const key = newKey();
    const response = await fetch(`${service.url}/api/v1/simulate-concurrent?concurrent_count=8`, {
      method: 'POST',
      headers: {
        authorization: 'Bearer key-bob',
        'idempotency-key': key,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ amount: 50.0, currency: 'USD', payment_method: 'credit_card' }),
    });
    expect(response.status).toBe(200);
    const report = await json(response);
    expect(report.processed).toBe(1);
    expect(report.replayed + report.conflicts).toBe(7);
    expect(report.transaction_ids).toHaveLength(1);
    expect(
      await count('processor_charges', 'downstream_key = $1', [`payments:${report.transaction_ids[0]}`]),
    ).toBe(1);
    for (const n of ['0', '51', 'ten']) {
      const refused = await fetch(`${service.url}/api/v1/simulate-concurrent?concurrent_count=${n}`, {
        method: 'POST',
        headers: {
          authorization: 'Bearer key-bob',
          'idempotency-key': key,
          'content-type': 'application/json',
        },
        body: JSON.stringify(paymentBody),
      });
      expect(refused.status).toBe(400);
    }
    for (const [given, kind] of [
      ['x', 'idempotency-key-malformed'],
      [undefined, 'idempotency-key-missing'],
    ] as const) {
      const refused = await fetch(`${service.url}/api/v1/simulate-concurrent?concurrent_count=2`, {
        method: 'POST',
        headers: {
          authorization: 'Bearer key-bob',
          'content-type': 'application/json',
          ...(given && { 'idempotency-key': given }),
        },
        body: JSON.stringify(paymentBody),
      });
      expect([refused.status, (await json(refused)).type]).toEqual([
        400,
        expect.stringMatching(new RegExp(`/${kind}$`)),
      ]);
    }
  });

  it("runs seed 001's simulate example as written (the count after the body), and counts the copies in /metrics", async () => {
    const metric = async (line: string) => {
      const text = await (await fetch(`${service.url}/metrics`)).text();
      const found = text.split('\n').find((one) => one.startsWith(`${line} `));
      return found === undefined ? 0 : Number(found.slice(line.length + 1));
    };
    const conflicts = 'concurrent_conflicts_total{route="/api/v1/payments"}';
    const replays = 'idempotent_replays_total{route="/api/v1/payments"}';
    const succeeded = 'payment_requests_total{outcome="succeeded"}';
    const before = [await metric(conflicts), await metric(replays), await metric(succeeded)];
    // What `curl -d '{…}' --data-urlencode "concurrent_count=10"` sends.
    const json = '{\n    "amount": 50.00,\n    "currency": "USD",\n    "payment_method": "credit_card"\n  }';
    const simulate = (body: string, query = '') =>
      fetch(`${service.url}/api/v1/simulate-concurrent${query}`, {
        method: 'POST',
        headers: {
          authorization: 'Bearer key-dave',
          'idempotency-key': newKey(),
          'content-type': 'application/json',
        },
        body,
      });
    const response = await simulate(`${json}&concurrent_count=10`);
    expect(response.status).toBe(200);
    const report: Json = await response.json();
    expect([report.concurrent_count, report.processed, report.replayed + report.conflicts]).toEqual([
      10, 1, 9,
    ]);
    const after = [await metric(conflicts), await metric(replays), await metric(succeeded)];
    expect(after[0]! - before[0]! + after[1]! - before[1]!).toBe(report.replayed + report.conflicts);
    expect(after[2]! - before[2]!).toBe(1);

    for (const [body, query] of [
      [`${json}&concurrent_count=99`, ''],
      [`${json}&concurrent_count=ten`, ''],
      [`${json}&concurrent_count=2&concurrent_count=3`, ''],
      [`${json}&amount=1`, ''],
      [`${json}&concurrent_count=2`, '?concurrent_count=2'],
    ] as const) {
      const refused = await simulate(body, query);
      const problem: Json = await refused.json();
      expect([refused.status, problem.status, body]).toEqual([400, 400, body]);
    }
    // Only this route reads parameters after its body: elsewhere such a body is not JSON.
    const payment = await pay(service.url, {
      apiKey: 'key-dave',
      key: newKey(),
      raw: `${json}&concurrent_count=10`,
    });
    expect(payment.status).toBe(400);
  });

  it('counts a replay as replayed in payment_requests_total, not as rejected', async () => {
    const outcomes = async () => {
      const text = await (await fetch(`${service.url}/metrics`)).text();
      const value = (outcome: string) =>
        Number(
          new RegExp(`^payment_requests_total\\{outcome="${outcome}"\\} (\\d+)`, 'm').exec(text)?.[1] ?? 0,
        );
      return { succeeded: value('succeeded'), replayed: value('replayed'), rejected: value('rejected') };
    };
    const key = newKey();
    expect((await pay(service.url, { key, apiKey: 'key-erin' })).status).toBe(201);
    const before = await outcomes();
    const replay = await pay(service.url, { key, apiKey: 'key-erin' });
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(await outcomes()).toEqual({ ...before, replayed: before.replayed + 1 });
  });

  it('serves health, metrics, retry config, OpenAPI and the docs page; request ids; 404 problems', async () => {
    const health = await json(await fetch(`${service.url}/health`));
    expect(health.status).toBe('healthy');
    expect(health.services.database.status).toBe('up');
    expect(health.services.redis.status).toBe(env.REDIS_URL ? 'up' : 'not_configured');
    expect((await fetch(`${service.url}/health/live`)).status).toBe(200);
    expect((await fetch(`${service.url}/health/ready`)).status).toBe(200);

    const metrics = await (await fetch(`${service.url}/metrics`)).text();
    for (const name of [
      'payment_requests_total',
      'payment_success_rate',
      'rate_limit_exceeded_total',
      'idempotent_replays_total',
      'concurrent_conflicts_total',
      'http_request_duration_seconds_bucket',
      'process_cpu_seconds_total',
      'tollgate_http_decisions_total',
    ]) {
      expect(metrics).toContain(name);
    }
    expect(metrics).toMatch(/^payment_requests_total\{outcome="succeeded"\} [1-9]/m);
    expect(metrics).toMatch(/^idempotent_replays_total\{route="\/api\/v1\/payments"\} [1-9]/m);

    const retryAnswer = await fetch(`${service.url}/api/v1/retry-config`);
    // Public, counted per client address: it carries the rate-limit headers every API route does.
    expect(retryAnswer.headers.get('x-ratelimit-limit')).toBe('60');
    expect(retryAnswer.headers.get('ratelimit-policy')).toBe('"per-ip-public";q=60;w=60');
    const retry = await json(retryAnswer);
    expect(retry).toMatchObject({
      max_retries: 2, // tollgate/client's documented defaults: 3 attempts, 100 ms base, 10 s cap
      base_delay_ms: 100,
      max_delay_ms: 10_000,
      jitter: 'full',
      retryable_statuses: [408, 409, 429, 500, 502, 503, 504],
    });
    expect(retry.max_retries).toBeGreaterThan(0);

    const openapi = await json(await fetch(`${service.url}/openapi.json`));
    expect(openapi.openapi).toMatch(/^3\./);
    for (const path of [
      '/api/v1/payments',
      '/api/v1/payments/{transaction_id}',
      '/api/v1/rate-limits',
      '/api/v1/audit-logs',
      '/api/v1/simulate-concurrent',
      '/api/v1/retry-config',
      '/health',
    ]) {
      expect(Object.keys(openapi.paths)).toContain(path);
    }
    // The document says what the service answers: the key a payment requires, errors as
    // problem+json, the refusals of authenticated routes, the headers it sends.
    const create = openapi.paths['/api/v1/payments'].post;
    expect(create.parameters).toContainEqual(
      expect.objectContaining({ in: 'header', name: 'Idempotency-Key', required: true }),
    );
    expect(Object.keys(create.responses['201'].headers)).toEqual(
      expect.arrayContaining(['Location', 'Idempotent-Replayed', 'RateLimit', 'X-Request-Id']),
    );
    expect(Object.keys(create.responses)).toEqual(
      expect.arrayContaining(['400', '401', '409', '422', '429', '503']),
    );
    expect(Object.keys(create.responses['429'].headers)).toContain('Retry-After');
    type Operation = { responses: Record<string, { content: Record<string, unknown> }> };
    for (const [path, operations] of Object.entries(
      openapi.paths as Record<string, Record<string, Operation>>,
    )) {
      for (const [method, operation] of Object.entries(operations)) {
        for (const [status, response] of Object.entries(operation.responses)) {
          if (/^[45]/.test(status))
            expect(Object.keys(response.content), `${method} ${path} ${status}`).toEqual([
              'application/problem+json',
            ]);
        }
        if (path.startsWith('/api/v1/') && path !== '/api/v1/retry-config')
          expect(Object.keys(operation.responses), `${method} ${path}`).toEqual(
            expect.arrayContaining(['401', '429']),
          );
      }
    }
    const docs = await fetch(`${service.url}/docs`, { redirect: 'follow' });
    expect(docs.status).toBe(200);
    const html = await docs.text();
    expect(html).toContain('swagger-ui');
    const script = html.match(/src="\.?\/?([^"]*swagger-ui-bundle\.js)"/)?.[1];
    expect(script).toBeDefined();
    const bundle = await fetch(`${service.url}/docs/${script!.replace(/^docs\//, '')}`);
    expect([bundle.status, (await bundle.arrayBuffer()).byteLength > 100_000]).toEqual([200, true]);

    const traced = await fetch(`${service.url}/health/live`, {
      headers: { 'x-request-id': 'trace-abc-123' },
    });
    expect(traced.headers.get('x-request-id')).toBe('trace-abc-123');
    const fresh = await fetch(`${service.url}/nowhere`);
    expect(fresh.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(fresh.status).toBe(404);
    expect(fresh.headers.get('content-type')).toMatch(/^application\/problem\+json/);

    // A path the service has, with a method it does not take: 405 with Allow, not 404.
    for (const [method, path, allow] of [
      ['PUT', '/api/v1/payments', 'POST'],
      ['DELETE', '/api/v1/payments/txn_abc', 'GET, HEAD'],
      ['PATCH', '/health', 'GET, HEAD'],
      ['POST', '/api/v1/audit-logs?limit=5', 'GET, HEAD'],
    ] as const) {
      const wrong = await fetch(`${service.url}${path}`, {
        method,
        headers: { authorization: 'Bearer key-alice' },
      });
      expect([wrong.status, wrong.headers.get('allow')], `${method} ${path}`).toEqual([405, allow]);
      expect(wrong.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(((await wrong.json()) as { detail: string }).detail).toContain(`takes ${allow}`);
    }
    // A path a route takes with this very method, that finds nothing there (a static file): 404.
    const missing = await fetch(`${service.url}/docs/static/nope.js`);
    expect([missing.status, missing.headers.get('allow')]).toEqual([404, null]);
  });
});
