import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { isSupportedCurrency, toMinorUnits } from '../money.ts';
import { fieldProblem, sendProblem } from '../problem.ts';
import type { PaymentRequest } from '../schemas.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The validated amount in minor units of the currency's ISO 4217 exponent. */
    amountMinor: bigint | undefined;
  }
}

/**
 * The route hook (before any claim) that checks a payment's amount against its currency, from
 * the number's text as sent: 422 problem+json naming the field, and nothing is written (the
 * idempotency key stays free).
 */
export function checkAmount(
  request: FastifyRequest,
  reply: FastifyReply,
  done: HookHandlerDoneFunction,
): void {
  const { amount, currency } = request.body as PaymentRequest;
  if (!isSupportedCurrency(currency)) {
    sendProblem(
      reply,
      fieldProblem(422, 'body', '/currency', `${currency} is not a supported ISO 4217 currency`),
    );
    return;
  }
  const minor = toMinorUnits(request.jsonNumbers?.get('/amount') ?? String(amount), currency);
  if (!minor.ok) {
    sendProblem(reply, fieldProblem(422, 'body', '/amount', minor.reason));
    return;
  }
  request.amountMinor = minor.minor;
  done();
}
