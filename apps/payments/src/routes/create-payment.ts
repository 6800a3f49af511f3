import { randomUUID } from 'node:crypto';
import type { Transaction } from '@tollgate/service-kit/database';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { problems } from 'tollgate/fastify';
import type { Claim, JsonValue, TieredIdempotencyStore } from 'tollgate/idempotency';
import { appendAudit } from '../audit.ts';
import { servicePolicies } from '../limits.ts';
import type { PaymentOutcome } from '../metrics.ts';
import { findPayment, insertPayment, type PaymentRow, settleAudited, toPayment } from '../payments.ts';
import { sendProblem, serviceProblems } from '../problem.ts';
import { type ChargeOutcome, ProcessorError } from '../processor.ts';
import { AuthHeaders, Payment, PaymentRequest, ProblemDocument } from '../schemas.ts';
import type { Services } from '../services.ts';
import { authenticate } from './authenticate.ts';
import { checkAmount } from './check-amount.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** What became of a payment request, for `payment_requests_total`. */
    outcome: PaymentOutcome | undefined;
  }
}

/** The recovery point after phase 1: the payment exists, pending. */
const CREATED = 'payment-created';

/** A claim another request took over (its lease lapsed): this one must stop writing. */
class ClaimLost extends Error {}

/** Phase 3 found the payment settled already (by the recovery worker): answer what is stored. */
class SettledElsewhere extends Error {}

/** The answer of phase 1: the claim and the pending payment, or what to send instead. */
type PhaseOne =
  | {
      readonly answered: true;
      readonly status: number;
      readonly headers: Record<string, string>;
      readonly body: Buffer;
    }
  | {
      readonly answered: false;
      readonly claim: Claim;
      readonly row: PaymentRow;
      readonly headers: Record<string, string>;
    };

/**
 * `POST /api/v1/payments` in Brandur Leach's atomic phases:
 * 1. one transaction: the idempotency claim, the pending payment, its audit row and the
 *    checkpoint naming it (a retry after a crash or a processor failure resumes here);
 * 2. the processor, called with a key derived from the payment, so a repeated call is the
 *    same charge;
 * 3. one transaction: the outcome, its audit row and the completed idempotency record with
 *    the response every retry will replay.
 * A processor failure answers 503; the key is released with its checkpoint kept.
 */
export function createPaymentRoute(app: FastifyInstance, services: Services): void {
  const { database, processor, openClaims, idempotencyStore } = services;

  app.post(
    '/api/v1/payments',
    {
      onRequest: authenticate(services),
      preHandler: checkAmount,
      config: {
        tollgate: {
          idempotency: {
            mode: 'required',
            claim: 'handler',
            // Metadata annotates a payment; it is not the charge. A retry that drops or changes it
            // replays the payment as made (its metadata shown), as seed 001's retry example
            // expects; any change to what is charged (amount, currency, method, description) is 422.
            exclude: ['metadata'],
            leaseMs: services.config.IDEMPOTENCY_LEASE_MS,
            ttlMs: services.config.IDEMPOTENCY_TTL_MS,
          },
          policies: servicePolicies(services.config).payments,
        },
      },
      schema: {
        summary: 'Create a payment (Idempotency-Key required).',
        tags: ['payments'],
        headers: {
          ...AuthHeaders,
          properties: { ...AuthHeaders.properties, 'idempotency-key': { type: 'string' } },
        },
        body: PaymentRequest,
        response: { 201: Payment, '4xx': ProblemDocument, '5xx': ProblemDocument },
      },
    },
    async (request, reply) => {
      const exchange = request.tollgate!;
      const principal = request.principal!;
      const body = request.body as PaymentRequest;
      let one: PhaseOne;
      try {
        one = await database.transaction((tx) => phaseOne(tx, idempotencyStore, request, principal, body));
      } catch (error) {
        if (!(error instanceof ClaimLost)) throw error;
        exchange.claim = undefined;
        return inFlight(reply);
      }
      if (one.answered) {
        request.outcome = one.headers['idempotent-replayed'] === 'true' ? 'replayed' : undefined;
        return reply.code(one.status).headers(one.headers).send(one.body);
      }
      const { claim, row, headers } = one;
      openClaims.add(claim);
      try {
        let outcome: ChargeOutcome;
        // tollgate keeps the claim's lease alive while the processor works (claim.keepAlive).
        try {
          outcome = await processor.charge({
            idempotencyKey: row.downstream_key,
            amountMinor: BigInt(row.amount_minor),
            currency: row.currency,
          });
        } catch (error) {
          if (!(error instanceof ProcessorError)) throw error;
          await appendAudit(database, {
            principal,
            action: 'payment.processor_failed',
            transactionId: row.transaction_id,
            requestId: request.id,
            details: { error: error.message },
          });
          request.outcome = 'failed';
          // The adapter completes the claim with this 503, which releases the key (checkpoint kept).
          return sendProblem(reply.headers(headers).header('retry-after', '1'), {
            ...serviceProblems['processor-unavailable'],
            detail:
              'The payment processor did not confirm the charge. Retry with the same Idempotency-Key: the charge will not be made twice.',
            retry_after: 1,
            transaction_id: row.transaction_id,
          });
        }
        let answer: string;
        try {
          const settle = (answerFrom: AnswerFrom) =>
            database.transaction((tx) =>
              phaseThree(tx, idempotencyStore, request, claim, row, outcome, answerFrom),
            );
          const settled = await settle('outcome').catch((error: unknown) => {
            if (error instanceof SettledElsewhere) return settle('stored');
            throw error;
          });
          answer = settled.answer;
          // Committed: the first replay is answered from the cache, never refused for quota.
          await settled.store.committed();
        } catch (error) {
          if (!(error instanceof ClaimLost)) throw error;
          exchange.claim = undefined;
          return inFlight(reply);
        }
        exchange.claim = undefined;
        request.outcome = outcome.outcome;
        return reply
          .code(201)
          .headers(headers)
          .header('location', locationOf(row.transaction_id))
          .type('application/json; charset=utf-8')
          .send(answer);
      } finally {
        openClaims.delete(claim);
      }
    },
  );
}

/** Phase 1, in `tx`: claim; then create the pending payment, or find the one a retry resumes. */
async function phaseOne(
  tx: Transaction,
  store: TieredIdempotencyStore,
  request: FastifyRequest,
  principal: string,
  body: PaymentRequest,
): Promise<PhaseOne> {
  // The claim is this transaction's first statement: it commits with the pending payment.
  const begun = await request.tollgate!.begin!({ store: tx.bind(store) });
  if (begun.status === 'answered') {
    const { status, headers, body: bytes } = begun.answer;
    return { answered: true, status, headers: { ...headers }, body: Buffer.from(bytes) };
  }
  const { claim, checkpoint, headers } = begun;
  const resumed =
    checkpoint?.name === CREATED
      ? String((checkpoint.data as { transaction_id: JsonValue }).transaction_id)
      : undefined;
  if (resumed !== undefined) {
    const row = await findPayment(tx, resumed, principal);
    if (row === undefined) throw new Error(`checkpoint names payment ${resumed}, which does not exist`);
    await appendAudit(tx, {
      principal,
      action: 'payment.resumed',
      transactionId: resumed,
      requestId: request.id,
      details: {},
    });
    return { answered: false, claim, row, headers };
  }
  const transactionId = `txn_${randomUUID().replaceAll('-', '')}`;
  // The pending payment with its `payment.created` audit row (one statement), and the checkpoint
  // naming it: neither needs the other's answer, so both are sent at once (one round trip).
  const [row, saved] = await Promise.all([
    insertPayment(
      tx,
      {
        transactionId,
        principal,
        amountMinor: request.amountMinor!,
        currency: body.currency,
        paymentMethod: body.payment_method,
        description: body.description ?? null,
        metadata: body.metadata ?? {},
      },
      request.id,
    ),
    claim.checkpoint(CREATED, { transaction_id: transactionId }),
  ]);
  if (!saved.ok) throw new ClaimLost();
  return { answered: false, claim, row, headers };
}

/**
 * Where phase 3 takes the payment it answers with: the pending row with the outcome applied
 * (what the settle writes, so the completion is sent beside the settle, one round trip), or,
 * when the payment was settled elsewhere meanwhile, the row as stored.
 */
type AnswerFrom = 'outcome' | 'stored';

/** Phase 3, in `tx`: the outcome, its audit row, and the completed idempotency record. */
async function phaseThree(
  tx: Transaction,
  store: TieredIdempotencyStore,
  request: FastifyRequest,
  claim: Claim,
  row: PaymentRow,
  outcome: ChargeOutcome,
  answerFrom: AnswerFrom,
): Promise<{ answer: string; store: TieredIdempotencyStore }> {
  const bound = tx.bind(store);
  const declineCode = outcome.outcome === 'declined' ? outcome.declineCode : null;
  // The outcome (if still pending) and its audit row: one statement.
  const settle = settleAudited(tx, row.transaction_id, {
    status: outcome.outcome,
    chargeId: outcome.chargeId,
    declineCode,
    principal: row.principal,
    requestId: request.id,
    action: outcome.outcome === 'succeeded' ? 'payment.succeeded' : 'payment.declined',
    details: { charge_id: outcome.chargeId, ...(declineCode && { decline_code: declineCode }) },
  });
  const complete = (answer: string) =>
    claim.within(bound).complete({
      status: 201,
      headers: {
        'content-type': 'application/json; charset=utf-8',
        location: locationOf(row.transaction_id),
      },
      body: answer,
    });
  let answer: string;
  let done: Awaited<ReturnType<typeof complete>>;
  if (answerFrom === 'outcome') {
    answer = JSON.stringify(toPayment({ ...row, status: outcome.outcome, decline_code: declineCode }));
    let settled: PaymentRow | undefined;
    [settled, done] = await Promise.all([settle, complete(answer)]);
    // Rolled back, completion included: the caller runs phase 3 again, answering what is stored.
    if (settled === undefined && done.ok) throw new SettledElsewhere();
  } else {
    const settled = (await settle) ?? (await findPayment(tx, row.transaction_id, row.principal))!;
    answer = JSON.stringify(toPayment(settled));
    done = await complete(answer);
  }
  if (!done.ok) throw new ClaimLost();
  return { answer, store: bound };
}

function locationOf(transactionId: string): string {
  return `/api/v1/payments/${transactionId}`;
}

function inFlight(reply: FastifyReply): FastifyReply {
  return sendProblem(reply.header('retry-after', '1'), {
    ...problems['idempotency-key-in-use'],
    detail: 'Another request with this idempotency key took it over. Retry after 1 s.',
    retry_after: 1,
  });
}
