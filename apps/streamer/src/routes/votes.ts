import { bearerAuth } from '@tollgate/service-kit/auth';
import type { Transaction } from '@tollgate/service-kit/database';
import type { FastifyInstance } from 'fastify';
import { sendProblem, serviceProblems } from '../problem.ts';
import { VoteRequest } from '../schemas.ts';
import type { Services } from '../services.ts';
import { queries } from '../sql/queries.ts';
import { type Answer, json, keyColumn, newId, withKey } from './effect.ts';
import { routeConfig } from './route-config.ts';
import { debit } from './wallet-debit.ts';

/**
 * `POST /api/votes`: stars from the voter's wallet to the streamer's `votes`, in one
 * transaction with the key (`Idempotency-Key` required); 402 when the balance is short.
 */
export function voteRoute(app: FastifyInstance, services: Services): void {
  app.post(
    '/api/votes',
    {
      onRequest: bearerAuth(services.users, 'streamer', services.failedAuth),
      config: routeConfig(services, 'POST', '/api/votes', true),
      schema: { body: VoteRequest },
    },
    async (request, reply) => {
      const body = request.body as VoteRequest;
      const user = request.principal!;
      const key = keyColumn(request);
      // Before the key is claimed: a vote for a streamer that does not exist is refused like bad
      // input — nothing stored, the key still free (for when that streamer exists). Stored, such
      // answers let one user write an idempotency record a request for made-up ids, for 24 h.
      // Streamers are never deleted, so one found here is still there in the transaction.
      const known = await services.database.query(queries.knownStreamers, [[body.streamer_id]]);
      if (known.length === 0) {
        return sendProblem(reply, {
          ...serviceProblems['streamer-not-found'],
          detail: `There is no streamer ${body.streamer_id}.`,
        });
      }
      return withKey(request, reply, services, async (tx: Transaction): Promise<Answer> => {
        const voteId = newId('vote');
        const debited = await debit(tx, { user, stars: body.stars, kind: 'vote', ref: voteId, key });
        if (!debited.ok) return debited.answer;
        await tx.query(queries.addVotes, [body.streamer_id, body.stars]);
        await tx.query(queries.insertVote, [voteId, user, body.streamer_id, body.stars, key]);
        return {
          ...json(201, {
            vote_id: voteId,
            streamer_id: body.streamer_id,
            stars: body.stars,
            balance: debited.balance,
          }),
          committed: () => services.metrics.stars.inc({ kind: 'vote' }, body.stars),
        };
      });
    },
  );
}
