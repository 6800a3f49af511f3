import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Transaction } from '../database/database.ts';
import { PROBLEM_JSON, problemBody, type ServiceProblem } from '../problem.ts';
import type { Services } from '../services.ts';

/** What an effect answers: stored with the key, then sent. */
export interface Answer {
  readonly status: number;
  readonly body: string;
  readonly contentType: string;
}

/** A JSON answer. */
export function json(status: number, value: unknown): Answer {
  return { status, body: JSON.stringify(value), contentType: 'application/json; charset=utf-8' };
}

/** A problem answer (stored and replayed like any other outcome). */
export function problem(value: ServiceProblem): Answer {
  return { status: value.status, body: problemBody(value), contentType: PROBLEM_JSON };
}

/** The claim was taken over (its lease lapsed) or the database saw the key already used. */
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
  type Sent = { status: number; headers: Record<string, string>; body: string | Uint8Array };
  let sent: Sent;
  try {
    sent = await services.database.transaction(async (tx): Promise<Sent> => {
      const begun = exchange?.begin ? await exchange.begin({ store: services.effectStore(tx) }) : undefined;
      if (begun?.status === 'answered') {
        return { status: begun.answer.status, headers: { ...begun.answer.headers }, body: begun.answer.body };
      }
      const answer = await effect(tx);
      const headers = { 'content-type': answer.contentType };
      if (begun !== undefined) {
        const done = await begun.claim.complete({ status: answer.status, headers, body: answer.body });
        if (!done.ok) throw new KeyTaken();
      }
      return { status: answer.status, headers: { ...begun?.headers, ...headers }, body: answer.body };
    });
  } catch (error) {
    // Rolled back: the claim went with the transaction, so nothing is left to complete.
    if (exchange) exchange.claim = undefined;
    if (!(error instanceof KeyTaken) && !isUniqueViolation(error)) throw error;
    return reply
      .code(409)
      .header('retry-after', '1')
      .type(PROBLEM_JSON)
      .send(
        problemBody({
          slug: 'idempotency-key-in-use',
          title: 'Request In Progress',
          status: 409,
          detail:
            'Another request with this idempotency key got there first. Retry after 1 s to get its answer.',
          retry_after: 1,
        }),
      );
  }
  if (exchange) exchange.claim = undefined;
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
