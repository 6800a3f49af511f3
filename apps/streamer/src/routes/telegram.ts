import { createHash } from 'node:crypto';
import type { Transaction } from '@tollgate/service-kit/database';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { serviceProblems } from '../problem.ts';
import { TelegramUpdate } from '../schemas.ts';
import type { Services } from '../services.ts';
import { queries } from '../sql/queries.ts';
import { telegramSecret } from './authenticate.ts';
import { type Answer, json, newId, problem, withKey } from './effect.ts';
import { routeConfig } from './route-config.ts';

interface LockedInvoice {
  id: string;
  user_id: string;
  stars: string;
  currency: string;
  status: string;
  /** The scope of the key tollgate generated for the invoice, if it did, and its claim's fence. */
  generated_key_scope: string | null;
  generated_key_fence: string | null;
}

const ok = (): Answer => json(200, { ok: true });

/**
 * `POST /integrations/telegram/payments`: Telegram's webhook.
 * - A `pre_checkout_query` (the user is about to pay) is answered in the webhook's response, as
 *   Telegram allows (`{"method": "answerPreCheckoutQuery", …}`): yes for an open invoice of that
 *   amount and currency, no — with the reason Telegram shows the user — for an unknown, paid or
 *   different invoice, so no money moves for what could not be credited.
 * - A `successful_payment` credits its invoice's stars to the invoice owner's wallet and marks
 *   the invoice paid, once: the key is the `invoice_payload`, claimed in the same transaction,
 *   and `payments.invoice_id` is unique whatever else fails.
 * - A payment that is not credited (422: another charge of a paid invoice, an unknown payload, a
 *   different amount) is kept in `unmatched_payments` for an operator to refund, logged and
 *   counted (`telegram_unmatched_payments_total`).
 * Other updates answer 200 and change nothing.
 */
export function telegramRoute(app: FastifyInstance, services: Services): void {
  app.post(
    '/integrations/telegram/payments',
    {
      onRequest: telegramSecret(services.telegram, services.failedAuth),
      config: routeConfig(services, 'POST', '/integrations/telegram/payments', true),
      schema: { body: TelegramUpdate },
      // Every way a payment can end uncredited answers 422: the handler's refusals, tollgate's
      // mismatch, their replays.
      onSend: (request, reply, payload, done) => {
        if (reply.statusCode !== 422 || successfulPayment(request) === undefined) return done(null, payload);
        recordUnmatched(services, request, problemType(payload)).then(() => done(null, payload), done);
      },
    },
    async (request, reply) => {
      const update = request.body as TelegramUpdate;
      if (update.pre_checkout_query !== undefined) {
        return reply.code(200).send(await answerPreCheckout(services, update.pre_checkout_query));
      }
      const payment = update.message?.successful_payment;
      if (payment === undefined) return reply.code(200).send({ ok: true });
      return withKey(request, reply, services, async (tx: Transaction): Promise<Answer> => {
        const [invoice] = await tx.query<LockedInvoice>(queries.lockInvoiceByPayload, [
          payment.invoice_payload,
        ]);
        if (invoice === undefined) {
          return problem({
            ...serviceProblems['unknown-invoice'],
            detail: 'The invoice_payload matches no invoice of this service; nothing was credited.',
          });
        }
        if (payment.currency !== invoice.currency || payment.total_amount !== Number(invoice.stars)) {
          return problem({
            ...serviceProblems['payment-mismatch'],
            detail: `The invoice is for ${invoice.stars} ${invoice.currency}; the payment says ${payment.total_amount} ${payment.currency}. Nothing was credited.`,
          });
        }
        const inserted = await tx.query(queries.insertPayment, [
          newId('tgp'),
          invoice.id,
          invoice.stars,
          payment.telegram_payment_charge_id,
          payment.provider_payment_charge_id,
        ]);
        if (inserted.length === 0) {
          // Paid already. The same charge is Telegram redelivering after the key's record
          // expired; another charge is a second payment nobody would credit.
          const [paid] = await tx.query<{ telegram_payment_charge_id: string }>(queries.findPaymentCharge, [
            invoice.id,
          ]);
          if (paid?.telegram_payment_charge_id === payment.telegram_payment_charge_id) return ok();
          return problem({
            ...serviceProblems['invoice-already-paid'],
            detail:
              'The invoice was paid already, by another charge. This charge was not credited: it is recorded for a refund.',
          });
        }
        await tx.query(queries.creditWallet, [invoice.user_id, invoice.stars]);
        await tx.query(queries.insertLedger, [
          newId('led'),
          invoice.user_id,
          'credit',
          invoice.stars,
          invoice.id,
          createHash('sha256').update(`telegram\0${invoice.id}`).digest('hex'),
        ]);
        await tx.query(queries.markInvoicePaid, [invoice.id]);
        return {
          ...ok(),
          committed: () => {
            services.metrics.stars.inc({ kind: 'credit' }, Number(invoice.stars));
            if (invoice.generated_key_scope !== null && invoice.generated_key_fence !== null) {
              const fence = Number(invoice.generated_key_fence);
              forgetInvoiceKey(services, request, invoice.generated_key_scope, fence);
            }
          },
        };
      });
    },
  );
}

type PreCheckout = NonNullable<TelegramUpdate['pre_checkout_query']>;

/** The webhook's answer to a pre-checkout query: Telegram's `answerPreCheckoutQuery` call. */
async function answerPreCheckout(services: Services, query: PreCheckout) {
  const [invoice] = await services.database.query<LockedInvoice>(queries.findInvoiceByPayload, [
    query.invoice_payload,
  ]);
  const refusal =
    invoice === undefined
      ? 'This invoice is unknown to the shop; nothing was charged.'
      : invoice.status !== 'open'
        ? 'This invoice has been paid already; create a new one to buy more Stars.'
        : query.currency !== invoice.currency || query.total_amount !== Number(invoice.stars)
          ? `This invoice is for ${invoice.stars} ${invoice.currency}; nothing was charged.`
          : undefined;
  return {
    method: 'answerPreCheckoutQuery',
    pre_checkout_query_id: query.id,
    ok: refusal === undefined,
    ...(refusal !== undefined && { error_message: refusal }),
  };
}

function successfulPayment(request: FastifyRequest) {
  return (request.body as TelegramUpdate | undefined)?.message?.successful_payment;
}

/** The `type` of a problem body (string or bytes), or `unknown`. */
function problemType(payload: unknown): string {
  try {
    const text = typeof payload === 'string' ? payload : Buffer.from(payload as Uint8Array).toString('utf8');
    const type = (JSON.parse(text) as { type?: unknown }).type;
    return typeof type === 'string' ? type.slice(type.lastIndexOf('/') + 1) : 'unknown';
  } catch {
    return 'unknown';
  }
}

/**
 * Keeps a payment the webhook did not credit in `unmatched_payments` (once per charge; never a
 * charge that was credited), and tells the operator: a warn log line with what a refund needs,
 * and `telegram_unmatched_payments_total`. A failure fails the response (503): Telegram
 * delivers the update again.
 */
async function recordUnmatched(services: Services, request: FastifyRequest, reason: string): Promise<void> {
  const update = request.body as TelegramUpdate;
  const payment = update.message!.successful_payment!;
  const userId = update.message!.from?.id ?? null;
  const [recorded] = await services.database.query<{ invoice_id: string | null }>(
    queries.insertUnmatchedPayment,
    [
      payment.telegram_payment_charge_id,
      payment.provider_payment_charge_id,
      userId,
      payment.invoice_payload,
      payment.currency,
      payment.total_amount,
      reason,
      update.update_id,
    ],
  );
  if (recorded === undefined) return; // recorded before, or credited
  services.metrics.unmatched.inc({ reason });
  request.log.warn(
    {
      reason,
      telegramPaymentChargeId: payment.telegram_payment_charge_id,
      telegramUserId: userId,
      invoiceId: recorded.invoice_id,
      amount: payment.total_amount,
      currency: payment.currency,
    },
    'Telegram payment not credited: kept in unmatched_payments for a refund',
  );
}

/**
 * The invoice is paid: the key tollgate generated for it from the request is forgotten — the
 * record that answered with this invoice only (`fence`), never a newer invoice's under the same
 * key — so the same request is a new purchase (a new invoice), not a replay of the paid one for
 * the rest of the key's hour. Not awaited by the webhook: if Redis cannot be told, the key lapses with its TTL
 * (pre-checkout refuses to take money for the paid invoice meanwhile).
 */
function forgetInvoiceKey(services: Services, request: FastifyRequest, scope: string, fence: number): void {
  services.idempotencyStore.forget(scope, fence).catch((error: unknown) => {
    request.log.warn(
      { err: error },
      'could not free the generated key of a paid invoice; it lapses with its TTL',
    );
  });
}
