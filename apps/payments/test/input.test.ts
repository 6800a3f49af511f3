/**
 * Input PostgreSQL cannot store, or that would be silently changed, is refused with a 4xx
 * problem naming the field, and nothing is written: NUL and lone surrogates, duplicate member
 * names, more precision than the currency, charsets other than UTF-8, content encodings.
 * Amounts use ISO 4217 exponents, stored with each payment.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, keyPrefix, redisUrl } from '../../../testkit/index.ts';
import { newKey, type RunningService, scratchDir, startService } from './service.ts';

const configurations: [string, () => Promise<{ env: Record<string, string>; dispose(): void }>][] = [
  [
    'the embedded default',
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

const valid = '"currency": "USD", "payment_method": "wallet"';

/** A raw body (text or bytes) with the headers a test chooses. */
async function post(url: string, body: string | Uint8Array, headers: Record<string, string> = {}) {
  const response = await fetch(`${url}/api/v1/payments`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: 'Bearer key-alice',
      'idempotency-key': newKey(),
      ...headers,
    },
    body,
  });
  return { status: response.status, type: response.headers.get('content-type'), text: await response.text() };
}

describe.each(configurations)('input the service refuses, on %s', (_name, open) => {
  let service: RunningService;
  let dispose: () => void;
  const tables = ['payments', 'audit_logs', 'processor_charges', 'tollgate_idempotency'];
  const counts = () =>
    Promise.all(
      tables.map(async (table) =>
        Number(
          (
            await service.services.database.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${table}`)
          )[0]!.n,
        ),
      ),
    );

  beforeAll(async () => {
    const opened = await open();
    dispose = opened.dispose;
    service = await startService({ ...opened.env, API_KEYS: 'key-alice:alice' });
  });
  afterAll(async () => {
    await service?.close();
    dispose?.();
  });

  const refused: [string, string | Uint8Array, Record<string, string>, number, string][] = [
    [
      'a NUL in the description',
      `{"amount": 5, ${valid}, "description": "a\\u0000b"}`,
      {},
      400,
      '/description',
    ],
    [
      'a lone high surrogate in the description',
      `{"amount": 5, ${valid}, "description": "a\\ud800b"}`,
      {},
      400,
      '/description',
    ],
    [
      'a lone low surrogate in the description',
      `{"amount": 5, ${valid}, "description": "\\udc00"}`,
      {},
      400,
      '/description',
    ],
    [
      'a NUL in a metadata key',
      `{"amount": 5, ${valid}, "metadata": {"k\\u0000": "v"}}`,
      {},
      400,
      '/metadata',
    ],
    [
      'a lone surrogate in a metadata key',
      `{"amount": 5, ${valid}, "metadata": {"\\ud83d": "v"}}`,
      {},
      400,
      '/metadata',
    ],
    [
      'a NUL in a metadata value',
      `{"amount": 5, ${valid}, "metadata": {"k": "\\u0000"}}`,
      {},
      400,
      '/metadata/k',
    ],
    [
      'a lone surrogate in a metadata value',
      `{"amount": 5, ${valid}, "metadata": {"k": "x\\udfff"}}`,
      {},
      400,
      '/metadata/k',
    ],
    [
      'bytes that are not UTF-8',
      new Uint8Array([
        ...Buffer.from(`{"amount": 5, ${valid}, "description": "`),
        0xff,
        0xfe,
        ...Buffer.from('"}'),
      ]),
      {},
      400,
      '/',
    ],
    ['"amount" twice', `{"amount": 1, ${valid}, "amount": 1000}`, {}, 400, '/amount'],
    [
      'a metadata key twice',
      `{"amount": 1, ${valid}, "metadata": {"k": "a", "k": "b"}}`,
      {},
      400,
      '/metadata/k',
    ],
    ['a __proto__ member', `{"amount": 1, ${valid}, "__proto__": {"x": 1}}`, {}, 400, '/'],
    [
      'arrays nested 200,000 deep',
      `{"amount": 5, ${valid}, "metadata": ${'['.repeat(200_000)}"\\u0041"${']'.repeat(200_000)}}`,
      {},
      400,
      '',
    ],
    [
      'objects nested 100,000 deep',
      `{"amount": 5, ${valid}, "metadata": ${'{"a":'.repeat(100_000)}"\\u0041"${'}'.repeat(100_000)}}`,
      {},
      400,
      '',
    ],
    ['more precision than USD', `{"amount": 1.0000000000000000000001, ${valid}}`, {}, 422, '/amount'],
    ['more precision than USD, in exponent form', `{"amount": 1234e-3, ${valid}}`, {}, 422, '/amount'],
    ['a huge exponent (JSON.parse: Infinity)', `{"amount": 1e400, ${valid}}`, {}, 400, '/amount'],
    ['an amount past the maximum, exactly', `{"amount": 1000000000.01, ${valid}}`, {}, 422, '/amount'],
    ['a tiny exponent', `{"amount": 1e-400, ${valid}}`, {}, 422, '/amount'],
    [
      'more precision than HUF',
      `{"amount": 1.005, "currency": "HUF", "payment_method": "wallet"}`,
      {},
      422,
      '/amount',
    ],
    [
      'charset=utf-16',
      `{"amount": 5, ${valid}}`,
      { 'content-type': 'application/json; charset=utf-16' },
      415,
      'content-type',
    ],
    [
      'charset=iso-8859-1',
      `{"amount": 5, ${valid}}`,
      { 'content-type': 'application/json;charset="ISO-8859-1"' },
      415,
      'content-type',
    ],
    [
      'Content-Encoding: gzip',
      `{"amount": 5, ${valid}}`,
      { 'content-encoding': 'gzip' },
      415,
      'content-encoding',
    ],
    [
      'Content-Encoding: br',
      `{"amount": 5, ${valid}}`,
      { 'content-encoding': 'br' },
      415,
      'content-encoding',
    ],
  ];
  it.each(refused)(
    'refuses %s, naming the field, and writes nothing',
    async (_case, body, headers, status, field) => {
      const before = await counts();
      const answer = await post(service.url, body, headers);
      expect(answer.status).toBe(status);
      expect(answer.type).toMatch(/^application\/problem\+json/);
      const problem = JSON.parse(answer.text);
      expect(problem.status).toBe(status);
      if (field) expect(problem.errors.map((e: { field: string }) => e.field)).toContain(field);
      expect(await counts()).toEqual(before);
    },
  );

  it('answers path parameters it cannot store 400, never 500', async () => {
    for (const id of ['%00', 'txn_%00', '%ED%A0%80', '%F0%9F%98', 'a%2Fb', '%C0%80', 'x'.repeat(65)]) {
      const response = await fetch(`${service.url}/api/v1/payments/${id}`, {
        headers: { authorization: 'Bearer key-alice' },
      });
      expect([400, 404], id).toContain(response.status);
      expect(response.headers.get('content-type'), id).toMatch(/^application\/problem\+json/);
    }
    // Past Fastify's parameter length: 414, said plainly, without the URL echoed back.
    const long = 'y'.repeat(5000);
    const response = await fetch(`${service.url}/api/v1/payments/${long}`, {
      headers: { authorization: 'Bearer key-alice' },
    });
    const problem = (await response.json()) as {
      status: number;
      type: string;
      title: string;
      detail: string;
    };
    expect([response.status, problem.status, problem.title]).toEqual([414, 414, 'URI Too Long']);
    expect(problem.type).toMatch(/uri-too-long$/);
    expect(problem.detail).not.toContain(long.slice(0, 200));
  });

  it('accepts what it refuses nothing of: UTF-8 spelled any way, trailing zeros, exponents, identity', async () => {
    for (const [body, headers, minor] of [
      [`{"amount": 99.990, ${valid}}`, { 'content-type': 'application/json; charset=UTF-8' }, '9999'],
      [`{"amount": 1e2, ${valid}}`, { 'content-encoding': 'identity' }, '10000'],
      [`{"amount": 12345E-2, ${valid}, "description": "caf\\u00e9 \\ud83d\\ude00"}`, {}, '12345'],
    ] as const) {
      const answer = await post(service.url, body, headers);
      expect(answer.status, answer.text).toBe(201);
      const { transaction_id, description } = JSON.parse(answer.text);
      const [row] = await service.services.database.query<{ amount_minor: string }>(
        'SELECT amount_minor::text FROM payments WHERE transaction_id = $1',
        [transaction_id],
      );
      expect(row!.amount_minor).toBe(minor);
      if (description !== null) expect(description).toBe('café 😀');
    }
  });

  it('takes minor units from ISO 4217 (HUF, IDR, COP 2; IQD 3; ISK 0), stores the exponent, reads the amount back', async () => {
    for (const [amount, currency, minor, exponent] of [
      ['1.50', 'HUF', '150', 2],
      ['10.25', 'IDR', '1025', 2],
      ['0.01', 'COP', '1', 2],
      ['1.234', 'IQD', '1234', 3],
      ['7', 'ISK', '7', 0],
      ['2.5', 'CLF', '25000', 4],
    ] as const) {
      const answer = await post(
        service.url,
        `{"amount": ${amount}, "currency": "${currency}", "payment_method": "wallet"}`,
      );
      expect(answer.status, `${currency} ${answer.text}`).toBe(201);
      const payment = JSON.parse(answer.text);
      expect(payment.amount).toBe(Number(amount));
      const [row] = await service.services.database.query<{
        amount_minor: string;
        currency_exponent: number;
      }>('SELECT amount_minor::text, currency_exponent FROM payments WHERE transaction_id = $1', [
        payment.transaction_id,
      ]);
      expect(row).toEqual({ amount_minor: minor, currency_exponent: exponent });
      const read = await fetch(`${service.url}/api/v1/payments/${payment.transaction_id}`, {
        headers: { authorization: 'Bearer key-alice' },
      });
      expect(((await read.json()) as { amount: number }).amount).toBe(Number(amount));
    }
  });
});

describe('the currency exponent migration', () => {
  it('backfills rows written before it with the exponent they were written with, and reads them back unchanged', async () => {
    const url = await freshDatabase();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const { readFileSync } = await import('node:fs');
    await client.query(
      'CREATE TABLE payments_migrations (id integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())',
    );
    for (const [id, name] of [
      [1, '0001_payments.sql'],
      [2, '0002_audit_logs.sql'],
      [3, '0003_processor_charges.sql'],
    ] as const) {
      await client.query(readFileSync(new URL(`../src/sql/${name}`, import.meta.url), 'utf8'));
      await client.query('INSERT INTO payments_migrations (id, name) VALUES ($1, $2)', [id, name]);
    }
    // As the previous code stored them: HUF with ICU's 0 digits, USD with 2, BHD with 3.
    for (const [id, minor, currency] of [
      ['txn_old_huf', 150, 'HUF'],
      ['txn_old_usd', 9999, 'USD'],
      ['txn_old_bhd', 1234, 'BHD'],
    ] as const) {
      await client.query(
        `INSERT INTO payments (transaction_id, principal, status, amount_minor, currency, payment_method, downstream_key)
         VALUES ($1, 'alice', 'succeeded', $2, $3, 'wallet', $1)`,
        [id, minor, currency],
      );
    }
    await client.end();
    const service = await startService({ DATABASE_URL: url, API_KEYS: 'key-alice:alice' });
    try {
      for (const [id, amount] of [
        ['txn_old_huf', 150],
        ['txn_old_usd', 99.99],
        ['txn_old_bhd', 1.234],
      ] as const) {
        const read = await fetch(`${service.url}/api/v1/payments/${id}`, {
          headers: { authorization: 'Bearer key-alice' },
        });
        expect(read.status).toBe(200);
        expect(((await read.json()) as { amount: number }).amount).toBe(amount);
      }
    } finally {
      await service.close();
    }
  });
});
