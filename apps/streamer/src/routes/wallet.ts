import { bearerAuth } from '@tollgate/service-kit/auth';
import type { Transaction } from '@tollgate/service-kit/database';
import type { FastifyInstance } from 'fastify';
import { WithdrawRequest } from '../schemas.ts';
import type { Services } from '../services.ts';
import { queries } from '../sql/queries.ts';
import { type Answer, json, keyColumn, newId, withKey } from './effect.ts';
import { routeConfig } from './route-config.ts';
import { debit } from './wallet-debit.ts';

/** Ledger rows `GET /api/wallet` shows, newest first. */
const LEDGER_PAGE = 100;

interface LedgerRow {
  id: string;
  kind: string;
  amount: string;
  ref: string;
  created_at: Date;
}

/** `GET /api/wallet` and `POST /api/wallet/withdraw` (one debit per key; 402 when short). */
export function walletRoutes(app: FastifyInstance, services: Services): void {
  const { database } = services;
  const onRequest = bearerAuth(services.users, 'streamer', services.failedAuth);

  app.get('/api/wallet', { onRequest, config: { tollgate: false } }, async (request) => {
    const user = request.principal!;
    const [wallet] = await database.query<{ balance: string }>(queries.findBalance, [user]);
    const ledger = await database.query<LedgerRow>(queries.listLedger, [user, LEDGER_PAGE]);
    return {
      balance: Number(wallet?.balance ?? 0),
      ledger: ledger.map((row) => ({
        ...row,
        amount: Number(row.amount),
        created_at: new Date(row.created_at).toISOString(),
      })),
    };
  });

  app.post(
    '/api/wallet/withdraw',
    {
      onRequest,
      config: routeConfig(services, 'POST', '/api/wallet/withdraw', true),
      schema: { body: WithdrawRequest },
    },
    (request, reply) => {
      const body = request.body as WithdrawRequest;
      const user = request.principal!;
      const key = keyColumn(request);
      return withKey(request, reply, services, async (tx: Transaction): Promise<Answer> => {
        const withdrawalId = newId('wd');
        const debited = await debit(tx, {
          user,
          stars: body.stars,
          kind: 'withdrawal',
          ref: withdrawalId,
          key,
        });
        if (!debited.ok) return debited.answer;
        await tx.query(queries.insertWithdrawal, [
          withdrawalId,
          user,
          body.stars,
          body.destination,
          debited.ledgerId,
        ]);
        const answer = {
          withdrawal_id: withdrawalId,
          stars: body.stars,
          status: 'pending',
          balance: debited.balance,
        };
        return {
          ...json(201, answer),
          committed: () => services.metrics.stars.inc({ kind: 'withdrawal' }, body.stars),
        };
      });
    },
  );
}
