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
  readonly maxHoldMs: number;
  readonly ttlMs: number;
  readonly maxResponseBytes: number;
  readonly replayHeaders: ReadonlySet<string>;
  readonly outcome: OutcomePolicy;
}

/** How often a release the store could not take is tried again. */
const RELEASE_RETRY_MS = 1_000;

/** What every binding of one claim shares: its renewal timer and whether it was lost. */
interface Lease {
  renewal: NodeJS.Timeout | undefined;
  lost: boolean;
}

/**
 * The right to run a request's effect, held under a lease and identified by a fencing token.
 * Every method is refused with `stale-fence` once another claimant has taken the key over, and
 * then changes nothing.
 */
export class Claim {
  private readonly lease: Lease;

  constructor(
    private readonly store: IdempotencyStore,
    /** The scope hash this claim holds. */
    readonly scope: string,
    /** This claim's fencing token; a takeover always gets a larger one. */
    readonly fence: number,
    private readonly fingerprint: string,
    private readonly settings: ClaimSettings,
    /**
     * The store outside any transaction: it renews the lease (a transaction may have ended
     * while the effect runs) and is the one {@link Claim.atHome} binds back to.
     * @default store
     */
    private readonly home: IdempotencyStore = store,
    lease?: Lease,
  ) {
    this.lease = lease ?? { renewal: undefined, lost: false };
  }

  /**
   * The same claim writing through `store`, e.g. `tiered.within(tx)` to complete it inside a
   * later transaction than the one that claimed it. Renewal and loss are shared.
   */
  within(store: IdempotencyStore): Claim {
    return new Claim(store, this.scope, this.fence, this.fingerprint, this.settings, this.home, this.lease);
  }

  /** The same claim writing through the store outside any transaction. */
  atHome(): Claim {
    return this.store === this.home ? this : this.within(this.home);
  }

  /** Renews the lease for `leaseMs` from now (by the store's clock), outside any transaction. */
  async extend(leaseMs: number = this.settings.leaseMs): Promise<FenceResult> {
    const result = await this.home.extend(this.scope, this.fence, leaseMs);
    if (!result.ok) this.lose();
    return result;
  }

  /**
   * Keeps the lease alive while the effect runs: renews it every third of the lease until
   * `complete`, `release`, the returned stop function, the fence is lost, or `maxHoldMs` has
   * passed (then `onHeldTooLong` is called, and the lease lapses `leaseMs` later unless the
   * claim completes first). The timer never keeps the process alive. A renewal that fails for
   * a fault (the store is down) is retried at the next beat; one refused as stale stops
   * renewing (see {@link Claim.lost}).
   */
  keepAlive(leaseMs: number = this.settings.leaseMs, onHeldTooLong?: () => void): () => void {
    this.stopKeepAlive();
    const until = performance.now() + this.settings.maxHoldMs;
    const beat = () => {
      if (performance.now() < until) return void this.extend(leaseMs).catch(() => undefined);
      this.stopKeepAlive();
      onHeldTooLong?.();
    };
    this.lease.renewal = setInterval(beat, Math.max(1, Math.floor(leaseMs / 3))).unref();
    return () => this.stopKeepAlive();
  }

  /** True once a write or a renewal was refused: another claimant has taken the key over. */
  get lost(): boolean {
    return this.lease.lost;
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
    this.stopKeepAlive();
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
    if (!result.ok) this.lose();
    return result.ok ? { ok: true, outcome: Outcome.Store, bodyOmitted: stored.bodyOmitted } : result;
  }

  /**
   * Gives the key back without a response (e.g. validation failed before any work), keeping
   * the last checkpoint. When the store cannot be reached, the error is thrown and the release
   * is tried again in the background (every second, outside any transaction) until it is done
   * or the lease has lapsed anyway: a retry told to come back soon is not refused as in flight
   * for the rest of the lease once the store is back.
   */
  async release(): Promise<FenceResult> {
    this.stopKeepAlive();
    let result: FenceResult;
    try {
      result = await this.store.release(this.scope, this.fence);
    } catch (error) {
      this.releaseLater(performance.now() + this.settings.leaseMs);
      throw error;
    }
    if (!result.ok) this.lose();
    return result;
  }

  private releaseLater(until: number): void {
    const attempt = () => {
      if (this.lease.lost || performance.now() >= until) return;
      this.home.release(this.scope, this.fence).then(
        (result) => {
          if (!result.ok) this.lose();
        },
        () => setTimeout(attempt, RELEASE_RETRY_MS).unref(),
      );
    };
    setTimeout(attempt, RELEASE_RETRY_MS).unref();
  }

  private lose(): void {
    this.lease.lost = true;
    this.stopKeepAlive();
  }

  private stopKeepAlive(): void {
    if (this.lease.renewal === undefined) return;
    clearInterval(this.lease.renewal);
    this.lease.renewal = undefined;
  }
}
