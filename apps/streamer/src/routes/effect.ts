import { createHash } from 'node:crypto';
import type { Transaction } from '@tollgate/service-kit/database';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { problems } from 'tollgate/fastify';
import type { TieredIdempotencyStore } from 'tollgate/idempotency';
import { PROBLEM_JSON, problemBody, type ServiceProblem, serviceProblems } from '../problem.ts';
import type { Services } from '../services.ts';

/** What an effect answers: stored with the key, then sent. */
export interface Answer {
  readonly status: number;
  readonly body: string;
  readonly contentType: string;
  /** Runs once the transaction has committed (metrics of what really happened). */
  readonly committed?: () => void;
}

/** A JSON answer. */
export function json(status: number, value: unknown): Answer {
  return { status, body: JSON.stringify(value), contentType: 'application/json; charset=utf-8' };
}

/** A problem answer (stored and replayed like any other outcome). */
export function problem(value: ServiceProblem): Answer {
  return { status: value.status, body: problemBody(value), contentType: PROBLEM_JSON };
}

/** The claim was taken over: its lease lapsed and another request holds the key. */
class KeyTaken extends Error {}

/**
 * The key's column value in the service's own tables (`votes.idempotency_key`…): a hash of
 * who sent it, on which route, and the key, so two callers' equal keys never collide and no
 * raw key is stored.
 */
export function keyColumn(request: FastifyRequest): string {
  const raw = request.headers['idempotency-key'] ?? request.headers['x-idempotency-key'] ?? '';
  const key = String(raw).replace(/^"(.*)"$/, '$1');
  return createHash('sha256')
    .update(`${request.principal ?? ''}\0${request.method} ${request.routeOptions.url}\0${key}`)
    .digest('hex');
}

/**
 * Runs `effect` in ONE transaction with the route's idempotency claim (`claim: 'handler'`): the
 * key is claimed first in that transaction, the effect writes, the answer is stored with the
 * key, and all of it commits together — or none of it. A replay, a conflict, a mismatch or a
 * limit is answered from the claim without running the effect. Without a key (an optional
 * key not sent), the effect runs alone in the transaction.
 */
export async function withKey(
  request: FastifyRequest,
  reply: FastifyReply,
  services: Services,
  effect: (tx: Transaction) => Promise<Answer>,
): Promise<FastifyReply> {
  const exchange = request.tollgate;
  type Sent = {
    status: number;
    headers: Record<string, string>;
    body: string | Uint8Array;
    committed?: (() => void) | undefined;
  };
  let sent: Sent;
  let bound: TieredIdempotencyStore | undefined;
  try {
    sent = await services.database.transaction(async (tx): Promise<Sent> => {
      bound = tx.bind(services.effectStore);
      // The claim is the transaction's first statement: the key commits with the effect.
      const begun = exchange?.begin ? await exchange.begin({ store: bound }) : undefined;
      if (begun?.status === 'answered') {
        return { status: begun.answer.status, headers: { ...begun.answer.headers }, body: begun.answer.body };
      }
      const answer = await effect(tx);
      const headers = { 'content-type': answer.contentType };
      if (begun !== undefined) {
        const done = await begun.claim.complete({ status: answer.status, headers, body: answer.body });
        if (!done.ok) throw new KeyTaken();
      }
      return {
        status: answer.status,
        headers: { ...begun?.headers, ...headers },
        body: answer.body,
        committed: answer.committed,
      };
    });
  } catch (error) {
    // Rolled back: the claim went with the transaction, so nothing is left to complete.
    if (exchange) exchange.claim = undefined;
    if (isUniqueViolation(error)) {
      // The database has this key's effect but the idempotency store has no record of it (it
      // expired after its TTL, or was lost): the key is used up, whatever a retry does.
      return reply
        .code(422)
        .type(PROBLEM_JSON)
        .send(
          problemBody({
            ...serviceProblems['idempotency-key-used'],
            detail:
              'This idempotency key already moved money and its answer is no longer stored. Use a new key for a new request.',
          }),
        );
    }
    if (!(error instanceof KeyTaken)) throw error;
    return reply
      .code(409)
      .header('retry-after', '1')
      .type(PROBLEM_JSON)
      .send(
        problemBody({
          ...problems['idempotency-key-in-use'],
          detail: 'Another request took this idempotency key over. Retry after 1 s to get its answer.',
          retry_after: 1,
        }),
      );
  }
  if (exchange) exchange.claim = undefined;
  // Committed: the answer goes to the replay cache, so a retry is answered without the database.
  await bound?.committed();
  sent.committed?.();
  return reply.code(sent.status).headers(sent.headers).send(Buffer.from(sent.body));
}

/** PostgreSQL's unique_violation: the schema's last line of defence held. */
function isUniqueViolation(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === '23505';
}

/** A fresh id with a prefix, e.g. `vote_3f…`. */
export function newId(prefix: string): string {
  return `${prefix}_${crypto.randomUUID().replaceAll('-', '')}`;
}
