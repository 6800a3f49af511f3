import { Claim } from './claim.ts';
import { IdempotencyStoreError } from './errors.ts';
import {
  type ClaimOptions,
  type EngineSettings,
  engineSettings,
  type IdempotencyEngineOptions,
  routeSettings,
} from './options.ts';
import { type Checkpoint, RecordState, type RecordView } from './record.ts';
import { type ReplayedResponse, toReplay } from './replay.ts';
import { type Scope, scopeHash } from './scope.ts';
import type { ClaimRequest, IdempotencyStore } from './store.ts';

/** The answers of {@link IdempotencyEngine.begin}. */
export const BeginStatus = {
  /** The key is yours: run the effect under `claim`, resuming after `checkpoint` if set. */
  New: 'new',
  /** The key was completed with the same request: send `response` again. */
  Replay: 'replay',
  /** The key was used with a different request (HTTP 422, or 409 if the route says so). */
  Mismatch: 'mismatch',
  /** Another claimant holds the key (HTTP 409 with `Retry-After: retryAfterSeconds`). */
  InFlight: 'in-flight',
} as const;
export type BeginStatus = (typeof BeginStatus)[keyof typeof BeginStatus];

/** The answer of {@link IdempotencyEngine.begin}, one per {@link BeginStatus}. */
export type BeginResult =
  | { readonly status: typeof BeginStatus.New; readonly claim: Claim; readonly checkpoint: Checkpoint | null }
  | { readonly status: typeof BeginStatus.Replay; readonly response: ReplayedResponse }
  | { readonly status: typeof BeginStatus.Mismatch }
  | {
      readonly status: typeof BeginStatus.InFlight;
      /** Whole seconds until the holder's lease ends (at least 1). */
      readonly retryAfterSeconds: number;
    };

/** One request as the engine sees it. */
export interface BeginRequest extends Scope {
  /** The parsed `Idempotency-Key` (see {@link parseIdempotencyKey}). */
  readonly key: string;
  /** The request's {@link fingerprint}. */
  readonly fingerprint: string;
}

/** Per-call options: the route's settings, and optionally a store bound to a transaction. */
export interface BeginOptions extends ClaimOptions {
  /**
   * Claim (and later complete) through this store instead of the engine's, e.g.
   * `postgresStore.within(client)` so the claim, the business write and the completion commit
   * together in the caller's transaction.
   */
  readonly store?: IdempotencyStore;
  /**
   * The replay cache was read for this key a moment ago and had nothing (the admission looked):
   * the first claim skips it (see {@link ClaimRequest.cacheMissed}); a wait's later polls read it.
   */
  readonly cacheMissed?: boolean;
}

const noOptions: BeginOptions = {};

/**
 * The idempotency state machine. Stores only make small primitives atomic; deciding between
 * new, replay, mismatch and in-flight, applying the outcome policy and shaping replays all
 * happen here, once.
 *
 * @example
 * const engine = new IdempotencyEngine({ store: new MemoryIdempotencyStore() });
 * const begun = await engine.begin({ principal, method: 'POST', route: '/payments', key, fingerprint });
 * if (begun.status === 'new') {
 *   const response = await charge();
 *   await begun.claim.complete(response);
 * }
 */
export class IdempotencyEngine {
  private readonly settings: EngineSettings;

  constructor(options: IdempotencyEngineOptions) {
    this.settings = engineSettings(options);
  }

  /**
   * The claim for a key that was claimed elsewhere in one step with other work (an admission
   * that also decided the request's rate limits); `store` is the store that holds it.
   */
  held(scope: string, fence: number, fingerprint: string, options: BeginOptions = noOptions): Claim {
    const settings = this.settingsFor(options);
    const store = options.store ?? this.settings.store;
    return new Claim(store, scope, fence, fingerprint, settings, store.home ?? store);
  }

  /**
   * What a record that could not be claimed means for a request with `fingerprint`: a replay,
   * a mismatch, or another claimant in flight.
   */
  answer(record: RecordView, fingerprint: string): Exclude<BeginResult, { status: 'new' }> {
    if (record.fingerprint !== fingerprint) return { status: BeginStatus.Mismatch };
    switch (record.state) {
      case RecordState.Completed:
        if (record.response === null) throw new IdempotencyStoreError('A completed record has no response.');
        return { status: BeginStatus.Replay, response: toReplay(record.response) };
      case RecordState.InFlight:
        return {
          status: BeginStatus.InFlight,
          retryAfterSeconds: Math.max(1, Math.ceil(record.leaseRemainingMs / 1000)),
        };
      default:
        throw new IdempotencyStoreError(
          `The store refused a claim on a ${record.state} record it should grant.`,
        );
    }
  }

  /** The engine's settings with a route's options over them. */
  settingsFor(options: BeginOptions = noOptions): EngineSettings {
    return options === noOptions
      ? this.settings
      : { ...this.settings, ...routeSettings(this.settings, options) };
  }

  /**
   * Frees a completed key: the next request with it runs anew. Only a completed record is
   * forgotten; one in flight or released is kept (see {@link IdempotencyStore.forget}). With
   * `fence` (the claim's), only the record that claim completed: not a later one under the key.
   *
   * @example
   * // The invoice a generated key answered with has been paid: the same request is a new purchase.
   * await engine.forget({ principal, method: 'POST', route: '/invoices', key });
   */
  forget(
    request: Omit<BeginRequest, 'fingerprint'>,
    options: Pick<BeginOptions, 'store'> & { readonly fence?: number } = {},
  ): Promise<boolean> {
    return (options.store ?? this.settings.store).forget(scopeHash(request, request.key), options.fence);
  }

  async begin(request: BeginRequest, options: BeginOptions = noOptions): Promise<BeginResult> {
    const settings = this.settingsFor(options);
    const store = options.store ?? this.settings.store;
    const scope = scopeHash(request, request.key);
    const { clock } = this.settings;
    const deadline = settings.waitMs > 0 ? clock.now() + settings.waitMs : 0;
    for (let attempt = 0; ; attempt++) {
      const claimed = await store.claim({
        scope,
        fingerprint: request.fingerprint,
        leaseMs: settings.leaseMs,
        ttlMs: settings.ttlMs,
        ...(attempt === 0 && options.cacheMissed === true && { cacheMissed: true }),
      });
      if (claimed.claimed) {
        const claim = new Claim(
          store,
          scope,
          claimed.fence,
          request.fingerprint,
          settings,
          store.home ?? store,
        );
        return { status: BeginStatus.New, claim, checkpoint: claimed.checkpoint };
      }
      const answer = this.answer(claimed.record, request.fingerprint);
      if (answer.status !== BeginStatus.InFlight || settings.waitMs <= 0) return answer;
      const remaining = deadline - clock.now();
      if (remaining <= 0) return answer;
      await clock.sleep(Math.min(settings.waitPollMs, remaining));
    }
  }
}
