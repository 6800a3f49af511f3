import type { Verdict } from '../ratelimit/algorithm.ts';
import { type Check, isBlocked } from '../ratelimit/store.ts';

/** One hash slot's part of a request whose checks span slots on a Redis Cluster. */
export interface Participant {
  readonly checks: readonly Check[];
  /** Phase 1: decides and, when this slot admits, consumes its checks (all-or-nothing). */
  first(): Promise<{ now: number; verdicts: Verdict[] }>;
  /** Phase 2, only when another slot refused: gives back what is left of the units consumed at `now`. */
  cancel(now: number, verdicts: readonly Verdict[]): Promise<unknown>;
}

/** A slot that failed beside one that refused: its state is unknown, and the request is refused anyway. */
const unknownVerdict: Verdict = { allowed: false, remaining: 0, resetMs: 0, retryAfterMs: 0 };

/**
 * Decides a request across slots exactly as one node would admit it, or more strictly.
 *
 * Phase 1 runs in every slot at once; each consumes only if all its enforcing checks admit,
 * so units are held the moment they are counted and no concurrent request can spend them
 * twice. When every slot admitted, that is the admission: there is no second phase. When any
 * enforcing check refused, phase 2 cancels the slots that consumed, each with the instant it
 * consumed: an algorithm gives back only what is still owed of those units (a bucket that has
 * refilled since owes nothing), so a late cancel can never forgive another request's units.
 * A cancel that fails or never arrives leaves the units spent until they refill: the cluster
 * then admits less, never more. A refusal is never turned into an error (which a fail-open
 * policy would admit): a slot that failed beside one that refused reads as refused too. A slot
 * that failed while none refused is an error, for each policy's `onStoreError` to decide.
 *
 * Returns each participant's verdicts, in order.
 */
export async function twoPhase(
  participants: readonly Participant[],
  beforeSecondPhase?: () => Promise<void>,
): Promise<Verdict[][]> {
  const settled = await Promise.allSettled(participants.map((participant) => participant.first()));
  let refused = false;
  let failure: unknown;
  let failed = false;
  settled.forEach((outcome, p) => {
    if (outcome.status === 'rejected') {
      failed = true;
      failure ??= outcome.reason;
    } else if (isBlocked(participants[p]!.checks, outcome.value.verdicts)) {
      refused = true;
    }
  });
  if (!refused) {
    if (failed) throw failure;
    return settled.map(
      (outcome) => (outcome as PromiseFulfilledResult<{ verdicts: Verdict[] }>).value.verdicts,
    );
  }
  const verdicts = settled.map((outcome, p) =>
    outcome.status === 'fulfilled'
      ? outcome.value.verdicts
      : participants[p]!.checks.map(() => unknownVerdict),
  );
  try {
    await beforeSecondPhase?.();
  } catch {
    return verdicts; // (tests) the second phase is lost: the units stay spent
  }
  await Promise.allSettled(
    settled.map((outcome, p) => {
      if (outcome.status === 'rejected') return undefined;
      const { now } = outcome.value;
      const participant = participants[p]!;
      return isBlocked(participant.checks, verdicts[p]!) ? undefined : participant.cancel(now, verdicts[p]!);
    }),
  );
  return verdicts;
}
