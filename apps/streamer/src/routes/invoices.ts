import { randomBytes } from 'node:crypto';
import { bearerAuth } from '@tollgate/service-kit/auth';
import type { FastifyInstance } from 'fastify';
import { sendProblem, serviceProblems } from '../problem.ts';
import { InvoiceParams, InvoiceRequest } from '../schemas.ts';
import type { Services } from '../services.ts';
import { queries } from '../sql/queries.ts';
import { newId } from './effect.ts';
import { routeConfig } from './route-config.ts';

interface InvoiceRow {
  id: string;
  payload: string;
  stars: string;
  currency: string;
  status: string;
}

function toInvoice(row: InvoiceRow) {
  return {
    invoice_id: row.id,
    payload: row.payload,
    stars: Number(row.stars),
    currency: row.currency,
    status: row.status,
  };
}

/**
 * `POST /api/payments/stars/createInvoice` (a Telegram Stars invoice; its key is optional and
 * kept in Redis for an hour, as the seed says) and `GET /api/payments/stars/invoices/:invoice_id`.
 */
export function invoiceRoutes(app: FastifyInstance, services: Services): void {
  const { database } = services;
  const onRequest = bearerAuth(services.users, 'streamer', services.failedAuth);

  app.post(
    '/api/payments/stars/createInvoice',
    {
      onRequest,
      config: routeConfig(services, 'POST', '/api/payments/stars/createInvoice'),
      schema: { body: InvoiceRequest },
    },
    async (request, reply) => {
      const { stars } = request.body as InvoiceRequest;
      // The payload Telegram echoes back in `successful_payment.invoice_payload`: unguessable.
      const payload = `pay_${randomBytes(16).toString('hex')}`;
      // A key tollgate made from the request (or the client sent back) is forgotten once this
      // invoice is paid — the record this claim completes, not a later one (telegram.ts).
      const { keyed, claim } = request.tollgate ?? {};
      const generated = keyed?.generated === true && claim !== undefined;
      const [row] = await database.query<InvoiceRow>(queries.insertInvoice, [
        newId('inv'),
        request.principal,
        payload,
        stars,
        generated ? keyed.scope : null,
        generated ? String(claim.fence) : null,
      ]);
      // The key this invoice answers to, so the client can reuse it (tollgate echoes the ones it generates).
      const key = request.headers['idempotency-key'];
      if (typeof key === 'string' && reply.getHeader('idempotency-key') === undefined) {
        reply.header('idempotency-key', key);
      }
      return reply.code(201).send(toInvoice(row!));
    },
  );

  app.get(
    '/api/payments/stars/invoices/:invoice_id',
    { onRequest, config: { tollgate: false }, schema: { params: InvoiceParams } },
    async (request, reply) => {
      const { invoice_id } = request.params as { invoice_id: string };
      const [row] = await database.query<InvoiceRow>(queries.findInvoice, [invoice_id, request.principal]);
      if (row === undefined) {
        return sendProblem(reply, {
          ...serviceProblems['invoice-not-found'],
          detail: `You have no invoice ${invoice_id}.`,
        });
      }
      return toInvoice(row);
    },
  );
}
