import { Outcome, type OutcomePolicy } from './outcome.ts';
import type { JsonValue } from './record.ts';
import { type CapturedResponse, toStoredResponse } from './replay.ts';
import type { FenceResult, IdempotencyStore } from './store.ts';

/** The answer of {@link Claim.complete}. */
export type CompleteResult =
  | { readonly ok: true; readonly outcome: typeof Outcome.Store; readonly bodyOmitted: boolean }
  | { readonly ok: true; readonly outcome: typeof Outcome.Release }
  | { readonly ok: false; readonly reason: 'stale-fence' };

/** What a claim needs from the engine's settings. */
export interface ClaimSettings {
  readonly leaseMs: number;
  readonly ttlMs: number;
  readonly maxResponseBytes: number;
  readonly replayHeaders: ReadonlySet<string>;
  readonly outcome: OutcomePolicy;
}

/**
 * The right to run a request's effect, held under a lease and identified by a fencing token.
 * Every method is refused with `stale-fence` once another claimant has taken the key over, and
 * then changes nothing.
 */
export class Claim {
  constructor(
    private readonly store: IdempotencyStore,
    /** The scope hash this claim holds. */
    readonly scope: string,
    /** This claim's fencing token; a takeover always gets a larger one. */
    readonly fence: number,
    private readonly fingerprint: string,
    private readonly settings: ClaimSettings,
  ) {}

  /** Renews the lease for `leaseMs` from now (by the store's clock). */
  extend(leaseMs: number = this.settings.leaseMs): Promise<FenceResult> {
    return this.store.extend(this.scope, this.fence, leaseMs);
  }

  /**
   * Records a recovery point: if this claimant crashes or releases, the next claimant of the
   * key gets `{ name, data }` from `begin` and can resume after that phase.
   */
  checkpoint(name: string, data: JsonValue): Promise<FenceResult> {
    return this.store.checkpoint(this.scope, this.fence, { name, data });
  }

  /**
   * Finishes the request with its response. By the outcome policy the response is stored for
   * replay (2xx, deterministic 4xx) or the key is released for a retry (5xx, 401/403/429).
   */
  async complete(response: CapturedResponse): Promise<CompleteResult> {
    if (this.settings.outcome(response.status) === Outcome.Release) {
      const released = await this.release();
      return released.ok ? { ok: true, outcome: Outcome.Release } : released;
    }
    const stored = toStoredResponse(response, this.settings.replayHeaders, this.settings.maxResponseBytes);
    const { scope, fence, fingerprint } = this;
    const result = await this.store.complete({
      scope,
      fence,
      fingerprint,
      response: stored,
      ttlMs: this.settings.ttlMs,
    });
    return result.ok ? { ok: true, outcome: Outcome.Store, bodyOmitted: stored.bodyOmitted } : result;
  }

  /**
   * Gives the key back without a response (e.g. validation failed before any work), keeping
   * the last checkpoint.
   */
  release(): Promise<FenceResult> {
    return this.store.release(this.scope, this.fence);
  }
}
