/**
 * Money moves once, and replays are faithful: votes, withdrawals and Telegram payments over a
 * real port, on the embedded default and on PostgreSQL + Redis.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  call,
  configurations,
  fund,
  newKey,
  newStreamer,
  paymentUpdate,
  type RunningService,
  startService,
  telegram,
  user,
} from './service.ts';

/** Room for the setup calls of these tests; the seed's limits are tested in limits.test.ts. */
const roomy = {
  LIMITS_STREAMER_SUBMIT_PER10M: '1000',
  LIMITS_INVOICE_PER5M: '1000',
  LIMITS_WITHDRAW_PER_HOUR: '1000',
  LIMITS_TELEGRAM_WEBHOOK_PER_MIN: '1000',
};

describe.each(configurations)('money on %s', (_name, open) => {
  let service: RunningService;
  let dispose: () => void;
  const count = async (table: string, where = 'true', params: unknown[] = []) =>
    Number(
      (
        await service.services.database.query<{ n: string }>(
          `SELECT count(*)::text AS n FROM ${table} WHERE ${where}`,
          params,
        )
      )[0]!.n,
    );
  const balanceOf = async (id: string) => (await user(service.url, id).wallet()).json.balance as number;

  beforeAll(async () => {
    const opened = await open();
    dispose = opened.dispose;
    service = await startService({ ...opened.env, ...roomy });
  });
  afterAll(async () => {
    await service.close();
    dispose();
  });

  it('a vote debits the voter and credits the streamer once, however often it is retried', async () => {
    const streamer = await newStreamer(service.url, 'u1');
    await fund(service.url, 'u1', 100);
    const key = newKey();
    const body = { streamer_id: streamer, stars: 25 };
    const keysBefore = await count('tollgate_idempotency', "state = 'completed'");
    const first = await user(service.url, 'u1').vote(body, key);
    expect(first.status).toBe(201);
    expect(first.json).toMatchObject({ streamer_id: streamer, stars: 25, balance: 75 });
    expect(first.json.vote_id).toMatch(/^vote_[0-9a-f]{32}$/);
    for (let i = 0; i < 3; i++) {
      const again = await user(service.url, 'u1').vote({ stars: 25, streamer_id: streamer }, key);
      expect([again.status, again.text, again.headers.get('idempotent-replayed')]).toEqual([
        201,
        first.text,
        'true',
      ]);
    }
    expect(await count('votes', 'user_id = $1', ['u1'])).toBe(1);
    // The key lives in the database, committed with the vote: no Redis loss can free it.
    expect(await count('tollgate_idempotency', "state = 'completed'")).toBe(keysBefore + 1);
    expect(await count('wallet_ledger', "user_id = $1 AND kind = 'vote'", ['u1'])).toBe(1);
    expect(await balanceOf('u1')).toBe(75);
    expect((await user(service.url, 'u1').streamer(streamer)).json.votes).toBe(25);
  });

  it('16 concurrent copies of one vote: one ledger row, sixteen identical answers', async () => {
    const streamer = await newStreamer(service.url, 'u2');
    await fund(service.url, 'u2', 50);
    const key = newKey();
    const answers = await Promise.all(
      Array.from({ length: 16 }, () =>
        user(service.url, 'u2').vote({ streamer_id: streamer, stars: 10 }, key),
      ),
    );
    const finals = answers.filter((answer) => answer.status !== 409);
    expect(finals.length).toBeGreaterThan(0);
    for (const answer of finals) expect([answer.status, answer.text]).toEqual([201, finals[0]!.text]);
    // A 409 (still in flight) is retried the way a client would: it gets the same answer.
    for (const answer of answers.filter((one) => one.status === 409)) {
      expect(answer.headers.get('retry-after')).toMatch(/^\d+$/);
      const retried = await user(service.url, 'u2').vote({ streamer_id: streamer, stars: 10 }, key);
      expect([retried.status, retried.text]).toEqual([201, finals[0]!.text]);
    }
    expect(await count('wallet_ledger', "user_id = $1 AND kind = 'vote'", ['u2'])).toBe(1);
    expect(await balanceOf('u2')).toBe(40);
  });

  it('concurrent votes and withdrawals with different keys never take the balance below zero', async () => {
    const streamer = await newStreamer(service.url, 'u3');
    await fund(service.url, 'u3', 100);
    const u3 = user(service.url, 'u3');
    const answers = await Promise.all([
      ...Array.from({ length: 12 }, () => u3.vote({ streamer_id: streamer, stars: 10 })),
      ...Array.from({ length: 6 }, () => u3.withdraw({ stars: 10, destination: 'ton:wallet-1' })),
    ]);
    const statuses = answers.map((answer) => answer.status);
    expect(statuses.filter((status) => status === 201)).toHaveLength(10);
    expect(statuses.filter((status) => status === 402)).toHaveLength(8);
    for (const refused of answers.filter((answer) => answer.status === 402)) {
      expect(refused.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(refused.json).toMatchObject({
        type: 'https://tollgate.dev/problems/insufficient-funds',
        status: 402,
      });
    }
    expect(await balanceOf('u3')).toBe(0);
    const [sum] = await service.services.database.query<{ total: string }>(
      'SELECT sum(amount)::text AS total FROM wallet_ledger WHERE user_id = $1',
      ['u3'],
    );
    expect(sum!.total).toBe('0');
  });

  it('402 insufficient-funds is stored and replayed like any outcome; a new key then succeeds', async () => {
    const streamer = await newStreamer(service.url, 'u4');
    const key = newKey();
    const refused = await user(service.url, 'u4').vote({ streamer_id: streamer, stars: 5 }, key);
    expect(refused.status).toBe(402);
    await fund(service.url, 'u4', 10);
    const replayed = await user(service.url, 'u4').vote({ streamer_id: streamer, stars: 5 }, key);
    expect([replayed.status, replayed.text, replayed.headers.get('idempotent-replayed')]).toEqual([
      402,
      refused.text,
      'true',
    ]);
    expect(await balanceOf('u4')).toBe(10);
    expect((await user(service.url, 'u4').vote({ streamer_id: streamer, stars: 5 })).status).toBe(201);
    expect(await balanceOf('u4')).toBe(5);
  });

  it('a key reused with another body is 422 and moves nothing', async () => {
    const streamer = await newStreamer(service.url, 'u5');
    await fund(service.url, 'u5', 30);
    const key = newKey();
    expect((await user(service.url, 'u5').withdraw({ stars: 10, destination: 'ton:a' }, key)).status).toBe(
      201,
    );
    const other = await user(service.url, 'u5').withdraw({ stars: 20, destination: 'ton:a' }, key);
    expect(other.status).toBe(422);
    expect(other.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const vote = await user(service.url, 'u5').vote({ streamer_id: streamer, stars: 1 }, key);
    expect(vote.status).toBe(201); // keys are scoped per route
    expect(await count('withdrawals', 'user_id = $1', ['u5'])).toBe(1);
    expect(await balanceOf('u5')).toBe(19);
  });

  it('a withdrawal debits once and answers pending; the wallet shows signed rows, newest first', async () => {
    await fund(service.url, 'u6', 40);
    const key = newKey();
    const first = await user(service.url, 'u6').withdraw({ stars: 15, destination: 'ton:dest' }, key);
    expect(first.status).toBe(201);
    expect(first.json).toMatchObject({ stars: 15, status: 'pending', balance: 25 });
    expect(first.json.withdrawal_id).toMatch(/^wd_/);
    const again = await user(service.url, 'u6').withdraw({ stars: 15, destination: 'ton:dest' }, key);
    expect([again.status, again.text]).toEqual([201, first.text]);
    const wallet = (await user(service.url, 'u6').wallet()).json;
    expect(wallet.balance).toBe(25);
    expect(wallet.ledger.map((row: { kind: string; amount: number }) => [row.kind, row.amount])).toEqual([
      ['withdrawal', -15],
      ['credit', 40],
    ]);
    expect(wallet.ledger[0].ref).toBe(first.json.withdrawal_id);
  });

  it('Telegram: one credit per invoice whatever is redelivered; invoices become paid', async () => {
    const u7 = user(service.url, 'u7');
    const invoice = (await u7.invoice(70, newKey())).json;
    expect(invoice).toMatchObject({ stars: 70, currency: 'XTR', status: 'open' });
    expect(invoice.invoice_id).toMatch(/^inv_/);
    const update = paymentUpdate(invoice.payload, 70, 100);
    const first = await telegram(service.url, update);
    expect([first.status, first.json]).toEqual([200, { ok: true }]);
    const redelivered = await telegram(service.url, update);
    expect([redelivered.status, redelivered.json]).toEqual([200, { ok: true }]);
    const another = await telegram(service.url, paymentUpdate(invoice.payload, 70, 101));
    expect([another.status, another.json]).toEqual([200, { ok: true }]);
    const concurrent = await Promise.all(
      Array.from({ length: 16 }, (_, i) =>
        telegram(service.url, paymentUpdate(invoice.payload, 70, 200 + i)),
      ),
    );
    for (const answer of concurrent) expect([409, 200]).toContain(answer.status);
    expect(await balanceOf('u7')).toBe(70);
    expect(await count('payments', 'invoice_id = $1', [invoice.invoice_id])).toBe(1);
    expect(await count('wallet_ledger', "user_id = $1 AND kind = 'credit'", ['u7'])).toBe(1);
    expect((await u7.readInvoice(invoice.invoice_id)).json).toMatchObject({ status: 'paid', stars: 70 });
    expect((await user(service.url, 'u8').readInvoice(invoice.invoice_id)).status).toBe(404);
    // A second, real payment of the same invoice (another charge id) is not swallowed as a
    // replay: it is refused as a mismatch, visibly, and credits nothing.
    const second = await telegram(
      service.url,
      paymentUpdate(invoice.payload, 70, 400, 'XTR', 'charge-second'),
    );
    expect([second.status, second.json.type]).toEqual([
      422,
      'https://tollgate.dev/problems/idempotency-key-mismatch',
    ]);
    expect(await balanceOf('u7')).toBe(70);
  });

  it('Telegram: an unknown payload, or a currency or amount unlike the invoice, is 422 and credits nothing', async () => {
    const invoice = (await user(service.url, 'u9').invoice(50, newKey())).json;
    for (const update of [
      paymentUpdate('pay_no_such_invoice', 50, 300),
      paymentUpdate(invoice.payload, 49, 301),
      paymentUpdate(invoice.payload, 50, 302, 'USD'),
    ]) {
      const answer = await telegram(service.url, update);
      expect(answer.status).toBe(422);
      expect(answer.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    }
    expect(await balanceOf('u9')).toBe(0);
    expect((await user(service.url, 'u9').readInvoice(invoice.invoice_id)).json.status).toBe('open');
    expect(await count('payments', 'invoice_id = $1', [invoice.invoice_id])).toBe(0);
  });

  it('Telegram: updates without a successful payment answer 200 and move nothing; a wrong secret is 401', async () => {
    const before = await count('wallet_ledger');
    const checkout = {
      update_id: 400,
      pre_checkout_query: {
        id: 'q1',
        from: { id: 7, is_bot: false, first_name: 'A' },
        currency: 'XTR',
        total_amount: 5,
        invoice_payload: 'x',
      },
    };
    // Answered (no, for a payload no invoice has: telegram.test.ts has the rest), nothing moves.
    expect((await telegram(service.url, checkout)).json).toMatchObject({
      method: 'answerPreCheckoutQuery',
      pre_checkout_query_id: 'q1',
      ok: false,
    });
    const text = {
      update_id: 401,
      message: { message_id: 3, date: 1700000000, chat: { id: 7, type: 'private' }, text: 'hi' },
    };
    expect((await telegram(service.url, text)).status).toBe(200);
    for (const secret of [null, '', 'wrong', 'telegram-secret-for-testsx']) {
      const answer = await telegram(service.url, checkout, secret);
      expect(answer.status).toBe(401);
      expect(answer.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    }
    expect(await count('wallet_ledger')).toBe(before);
  });

  it('createInvoice: an invoice per request; with a key, a retry gets the same invoice and the key echoed', async () => {
    const u10 = user(service.url, 'u10');
    const key = newKey();
    const first = await u10.invoice(5, key);
    expect(first.status).toBe(201);
    expect(first.headers.get('idempotency-key')).toBe(key);
    const again = await u10.invoice(5, key);
    expect([again.status, again.text, again.headers.get('idempotent-replayed')]).toEqual([
      201,
      first.text,
      'true',
    ]);
    expect((await u10.invoice(6, key)).status).toBe(422);
    const other = await u10.invoice(5, newKey());
    expect(other.json.invoice_id).not.toBe(first.json.invoice_id);
    expect(await count('invoices', 'user_id = $1', ['u10'])).toBe(2);
  });

  it('createInvoice without a key: the same request within the hour is the same invoice, replayed; another is new', async () => {
    const u11 = user(service.url, 'u11');
    const first = await u11.invoice(7);
    expect(first.status).toBe(201);
    const generated = first.headers.get('idempotency-key');
    expect(generated).toMatch(/^[A-Za-z0-9_-]{16,255}$/);
    const same = await u11.invoice(7);
    expect([same.status, same.text, same.headers.get('idempotent-replayed')]).toEqual([
      201,
      first.text,
      'true',
    ]);
    const different = await u11.invoice(8);
    expect(different.status).toBe(201);
    expect(different.json.invoice_id).not.toBe(first.json.invoice_id);
    expect(await count('invoices', 'user_id = $1', ['u11'])).toBe(2);
  });

  it('reads: an unknown streamer or invoice is 404 problem+json; a user without stars has an empty wallet', async () => {
    const missing = await user(service.url, 'u12').streamer('str_missing');
    expect([missing.status, missing.json.type]).toEqual([
      404,
      'https://tollgate.dev/problems/streamer-not-found',
    ]);
    expect((await user(service.url, 'u12').readInvoice('inv_missing')).status).toBe(404);
    expect((await user(service.url, 'u12').wallet()).json).toEqual({ balance: 0, ledger: [] });
    expect((await call(service.url, 'GET', '/api/wallet')).status).toBe(401);
  });

  it('refuses a vote for a streamer that does not exist before claiming its key: nothing stored, the key still free', async () => {
    await fund(service.url, 'u13', 5);
    const records = () => count('tollgate_idempotency');
    const before = await records();
    const key = newKey();
    for (let i = 0; i < 20; i++) {
      const made_up = await user(service.url, 'u13').vote(
        { streamer_id: `str_made_up_${i}`, stars: 1 },
        i === 0 ? key : newKey(),
      );
      expect([made_up.status, made_up.json.type]).toEqual([
        404,
        'https://tollgate.dev/problems/streamer-not-found',
      ]);
    }
    expect(await records()).toBe(before); // twenty made-up ids wrote no record
    // The key was not used up: it votes for a streamer that exists (not 422 for another body).
    const streamer = await newStreamer(service.url, 'u13');
    const vote = await user(service.url, 'u13').vote({ streamer_id: streamer, stars: 2 }, key);
    expect([vote.status, vote.json.balance]).toEqual([201, 3]);
  });
});
