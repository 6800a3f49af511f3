import { createHash } from 'node:crypto';
import type { Transaction } from '@tollgate/service-kit/database';
import type { FastifyInstance } from 'fastify';
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
}

const ok = (): Answer => json(200, { ok: true });

/**
 * `POST /integrations/telegram/payments`: Telegram's webhook. A `successful_payment` credits its
 * invoice's stars to the invoice owner's wallet and marks the invoice paid, once: the key is the
 * `invoice_payload`, claimed in the same transaction, and `payments.invoice_id` is unique
 * whatever else fails. Updates without a payment answer 200 and change nothing.
 */
export function telegramRoute(app: FastifyInstance, services: Services): void {
  app.post(
    '/integrations/telegram/payments',
    {
      onRequest: telegramSecret(services.telegram, services.failedAuth),
      config: routeConfig(services, 'POST', '/integrations/telegram/payments', true),
      schema: { body: TelegramUpdate },
    },
    (request, reply) => {
      const payment = (request.body as TelegramUpdate).message?.successful_payment;
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
        if (inserted.length === 0) return ok(); // already credited: Telegram redelivered
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
          committed: () => services.metrics.stars.inc({ kind: 'credit' }, Number(invoice.stars)),
        };
      });
    },
  );
}
