/**
 * Telegram's side of a Stars payment: the pre-checkout query is answered in the webhook's
 * response (yes only for an open invoice of that amount), and every successful payment the
 * service does not credit is kept in `unmatched_payments` for a refund — including a second
 * charge of an invoice whose key's record has expired.
 */
import { scopeHash } from 'tollgate/idempotency';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  configurations,
  fund,
  newKey,
  paymentUpdate,
  type RunningService,
  startService,
  telegram,
  user,
} from './service.ts';

const roomy = { LIMITS_INVOICE_PER5M: '1000', LIMITS_TELEGRAM_WEBHOOK_PER_MIN: '1000' };

/** Telegram's `pre_checkout_query` update for `payload`. */
function preCheckout(payload: string, totalAmount: number, id = 'pcq-1', currency = 'XTR') {
  return {
    update_id: 500,
    pre_checkout_query: {
      id,
      from: { id: 7, is_bot: false, first_name: 'A' },
      currency,
      total_amount: totalAmount,
      invoice_payload: payload,
    },
  };
}

describe.each(configurations)('Telegram payments on %s', (_name, open) => {
  let service: RunningService;
  let dispose: () => void;
  let env: Record<string, string>;
  const unmatched = () =>
    service.services.database.query<{
      telegram_payment_charge_id: string;
      telegram_user_id: string;
      invoice_id: string | null;
      total_amount: string;
      reason: string;
    }>(
      'SELECT telegram_payment_charge_id, telegram_user_id::text, invoice_id, total_amount::text, reason FROM unmatched_payments ORDER BY created_at',
    );

  beforeAll(async () => {
    const configuration = await open();
    dispose = configuration.dispose;
    env = configuration.env;
    service = await startService({ ...env, ...roomy });
  });
  afterAll(async () => {
    await service?.close();
    dispose?.();
  });

  it('answers a pre-checkout query: yes for an open invoice of its amount, no (with the reason) otherwise', async () => {
    const u1 = user(service.url, 'u1');
    const invoice = (await u1.invoice(25, newKey())).json;
    const answer = async (update: unknown) => {
      const response = await telegram(service.url, update);
      expect(response.status).toBe(200);
      return response.json;
    };
    expect(await answer(preCheckout(invoice.payload, 25, 'q-ok'))).toEqual({
      method: 'answerPreCheckoutQuery',
      pre_checkout_query_id: 'q-ok',
      ok: true,
    });
    const wrongAmount = await answer(preCheckout(invoice.payload, 24, 'q-amount'));
    expect([wrongAmount.ok, wrongAmount.pre_checkout_query_id]).toEqual([false, 'q-amount']);
    expect(wrongAmount.error_message).toMatch(/for 25 XTR/);
    expect((await answer(preCheckout(invoice.payload, 25, 'q-cur', 'USD'))).ok).toBe(false);
    const unknown = await answer(preCheckout('pay_nobody', 25, 'q-unknown'));
    expect([unknown.ok, unknown.error_message]).toEqual([false, expect.stringMatching(/unknown/)]);

    expect((await telegram(service.url, paymentUpdate(invoice.payload, 25))).status).toBe(200);
    const paid = await answer(preCheckout(invoice.payload, 25, 'q-paid'));
    expect([paid.ok, paid.error_message]).toEqual([false, expect.stringMatching(/paid already/)]);
    // Nothing a pre-checkout query says is stored or credited.
    expect((await u1.wallet()).json.balance).toBe(25);
  });

  it('buys again with the same request once its invoice is paid: a generated key is forgotten, a client key is not', async () => {
    const u4 = user(service.url, 'u4');
    const first = await u4.invoice(15);
    expect(first.status).toBe(201);
    const generated = first.headers.get('idempotency-key');
    expect(generated).toBeTruthy();
    // A duplicate while the invoice is open gets the same invoice (the seed's rule).
    const duplicate = await u4.invoice(15);
    expect([duplicate.status, duplicate.headers.get('idempotent-replayed')]).toEqual([201, 'true']);
    expect(duplicate.json.invoice_id).toBe(first.json.invoice_id);

    expect((await telegram(service.url, paymentUpdate(first.json.payload, 15, 701))).status).toBe(200);
    // Paid: the same request is a new purchase, with a new invoice Telegram will take money for.
    const next = await eventually(async () => {
      const answer = await u4.invoice(15);
      return answer.json.invoice_id === first.json.invoice_id ? undefined : answer;
    });
    expect([next.status, next.json.status, next.headers.get('idempotent-replayed')]).toEqual([
      201,
      'open',
      null,
    ]);
    expect(next.headers.get('idempotency-key')).toBe(generated);
    const yes = await telegram(service.url, preCheckout(next.json.payload, 15, 'q-next'));
    expect(yes.json.ok).toBe(true);
    // Its duplicates replay it again, until it too is paid.
    expect((await u4.invoice(15)).json.invoice_id).toBe(next.json.invoice_id);
    expect((await telegram(service.url, paymentUpdate(next.json.payload, 15, 702))).status).toBe(200);
    expect((await u4.wallet()).json.balance).toBe(30);

    // A key the client chose stays the paid invoice's answer for its whole TTL.
    const own = newKey();
    const mine = await u4.invoice(20, own);
    expect((await telegram(service.url, paymentUpdate(mine.json.payload, 20, 703))).status).toBe(200);
    const again = await u4.invoice(20, own);
    expect([again.headers.get('idempotent-replayed'), again.json.invoice_id]).toEqual([
      'true',
      mine.json.invoice_id,
    ]);
  });

  it("forgets only the paid invoice's own record of a generated key, and the key sent back by the client is the same key", async () => {
    const u5 = user(service.url, 'u5');
    const store = service.services.idempotencyStore;
    const a = await u5.invoice(12);
    const key = a.headers.get('idempotency-key')!;
    const scope = scopeHash(
      { principal: 'u5', method: 'POST', route: '/api/payments/stars/createInvoice' },
      key,
    );
    // A's record goes (its hour ran out, or Redis lost it) while A is still open; the same
    // request then makes B under the same key.
    expect(await store.forget(scope)).toBe(true);
    const b = await u5.invoice(12);
    expect(b.json.invoice_id).not.toBe(a.json.invoice_id);
    // A is paid late: B's record stays, so B's duplicates still get B (not a third invoice).
    expect((await telegram(service.url, paymentUpdate(a.json.payload, 12, 801))).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 100));
    for (const duplicate of [await u5.invoice(12), await u5.invoice(12, key)]) {
      expect([duplicate.headers.get('idempotent-replayed'), duplicate.json.invoice_id]).toEqual([
        'true',
        b.json.invoice_id,
      ]);
    }
    // B is paid: the key is free. Sent back by the client, it makes C; C paid, the plain
    // request makes D — never a paid invoice replayed.
    expect((await telegram(service.url, paymentUpdate(b.json.payload, 12, 802))).status).toBe(200);
    const c = await eventually(async () => {
      const answer = await u5.invoice(12, key);
      return answer.json.invoice_id === b.json.invoice_id ? undefined : answer;
    });
    expect([c.status, c.json.status]).toEqual([201, 'open']);
    expect((await telegram(service.url, paymentUpdate(c.json.payload, 12, 803))).status).toBe(200);
    const d = await eventually(async () => {
      const answer = await u5.invoice(12);
      return answer.json.invoice_id === c.json.invoice_id ? undefined : answer;
    });
    expect([d.status, d.json.status, d.headers.get('idempotent-replayed')]).toEqual([201, 'open', null]);
    expect((await u5.wallet()).json.balance).toBe(36);
  });

  it('keeps every payment it does not credit for a refund: once per charge, never a credited one', async () => {
    const invoiceId = await fund(service.url, 'u2', 40); // paid with charge-<payload>
    const invoice = (await user(service.url, 'u2').readInvoice(invoiceId)).json;
    const before = await unmatched();

    // A second real charge of the paid invoice (its key's record alive: tollgate's mismatch).
    const second = paymentUpdate(invoice.payload, 40, 601, 'XTR', 'charge-second');
    for (let delivery = 0; delivery < 3; delivery++) {
      const answer = await telegram(service.url, { ...second, update_id: 601 + delivery });
      expect(answer.status).toBe(422);
    }
    // A payload no invoice has, and an amount unlike the invoice's.
    expect(
      (await telegram(service.url, paymentUpdate('pay_unknown', 5, 602, 'XTR', 'charge-unknown'))).status,
    ).toBe(422);
    const other = (await user(service.url, 'u2').invoice(9, newKey())).json;
    expect(
      (await telegram(service.url, paymentUpdate(other.payload, 8, 603, 'XTR', 'charge-amount'))).status,
    ).toBe(422);
    // The credited charge delivered again is a replay, and never unmatched.
    expect((await telegram(service.url, paymentUpdate(invoice.payload, 40, 604))).status).toBe(200);

    const added = (await unmatched()).slice(before.length);
    expect(added.map((row) => [row.telegram_payment_charge_id, row.reason])).toEqual([
      ['charge-second', 'idempotency-key-mismatch'],
      ['charge-unknown', 'unknown-invoice'],
      ['charge-amount', 'payment-mismatch'],
    ]);
    expect(added[0]).toMatchObject({ telegram_user_id: '7', invoice_id: invoiceId, total_amount: '40' });
    expect(added[1]!.invoice_id).toBeNull();
    expect((await user(service.url, 'u2').wallet()).json.balance).toBe(40);
    const metrics = await (await fetch(`${service.url}/metrics`)).text();
    expect(metrics).toMatch(/^telegram_unmatched_payments_total\{reason="idempotency-key-mismatch"\} [1-9]/m);
  });

  it('refuses a second charge of a paid invoice after the key expired, and keeps it for a refund', async () => {
    const invoiceId = await fund(service.url, 'u3', 30);
    const invoice = (await user(service.url, 'u3').readInvoice(invoiceId)).json;
    // 24 h later: the payload's idempotency record is gone from the database and from the
    // replay cache (this process's memory, or Redis under this test's prefix).
    await service.services.database.query(
      "UPDATE tollgate_idempotency SET expires_at = now() - interval '1 second' WHERE state = 'completed'",
    );
    expect(await service.services.database.idempotency.sweep(10_000)).toBeGreaterThan(0);
    const { redis, config } = service.services;
    const keys = redis ? await redis.keys(`${config.REDIS_KEY_PREFIX}*`) : [];
    if (keys.length > 0) await redis!.del(...keys);
    await service.close();
    service = await startService({ ...env, ...roomy });

    // A new charge of the paid invoice: refused and kept. The credited charge delivered again
    // afterwards credits nothing and is not taken for an unmatched one.
    const second = await telegram(
      service.url,
      paymentUpdate(invoice.payload, 30, 702, 'XTR', 'charge-after-expiry'),
    );
    expect([second.status, second.json.type]).toEqual([
      422,
      'https://tollgate.dev/problems/invoice-already-paid',
    ]);
    expect((await telegram(service.url, paymentUpdate(invoice.payload, 30, 703))).status).toBe(422);
    const rows = await unmatched();
    expect(rows.filter((row) => row.telegram_payment_charge_id === 'charge-after-expiry')).toEqual([
      expect.objectContaining({ reason: 'invoice-already-paid', invoice_id: invoiceId }),
    ]);
    expect(rows.some((row) => row.telegram_payment_charge_id === `charge-${invoice.payload}`)).toBe(false);
    expect((await user(service.url, 'u3').wallet()).json.balance).toBe(30);
  });
});

/** `attempt`'s answer once it gives one (the forget runs once the webhook's transaction committed). */
async function eventually<T>(attempt: () => Promise<T | undefined>): Promise<T> {
  for (let tries = 0; tries < 50; tries++) {
    const answer = await attempt();
    if (answer !== undefined) return answer;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error('no answer after 50 tries');
}
