import type { Transaction } from '@tollgate/service-kit/database';
import { serviceProblems } from '../problem.ts';
import { queries } from '../sql/queries.ts';
import { type Answer, newId, problem } from './effect.ts';

/** What a debit did: the new balance, or the 402 to answer (nothing written). */
export type Debit =
  | { readonly ok: true; readonly balance: number; readonly ledgerId: string }
  | { readonly ok: false; readonly answer: Answer };

/**
 * Takes `stars` from the user's wallet with its ledger row, in `tx`: the balance check and the
 * debit are one conditional UPDATE, so concurrent debits never take a balance below zero.
 */
export async function debit(
  tx: Transaction,
  entry: { user: string; stars: number; kind: 'vote' | 'withdrawal'; ref: string; key: string },
): Promise<Debit> {
  const [row] = await tx.query<{ balance: string }>(queries.debitWallet, [entry.user, entry.stars]);
  if (row === undefined) {
    const [wallet] = await tx.query<{ balance: string }>(queries.findBalance, [entry.user]);
    const balance = Number(wallet?.balance ?? 0);
    return {
      ok: false,
      answer: problem({
        ...serviceProblems['insufficient-funds'],
        detail: `This needs ${entry.stars} stars; the wallet holds ${balance}.`,
        balance,
        required: entry.stars,
      }),
    };
  }
  const ledgerId = newId('led');
  await tx.query(queries.insertLedger, [
    ledgerId,
    entry.user,
    entry.kind,
    -entry.stars,
    entry.ref,
    entry.key,
  ]);
  return { ok: true, balance: Number(row.balance), ledgerId };
}
