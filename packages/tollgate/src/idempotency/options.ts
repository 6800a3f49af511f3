import { type Clock, systemClock } from '../clock.ts';
import { ErrorCode } from '../codes.ts';
import { TollgateError } from '../errors.ts';
import { defaultOutcomePolicy, type OutcomePolicy } from './outcome.ts';
import { DEFAULT_REPLAY_HEADERS } from './replay.ts';
import type { IdempotencyStore } from './store.ts';

/**
 * How a key is claimed, held and kept: settings a route (or one `begin`) may choose for itself;
 * each falls back to the engine's, then to the default.
 */
export interface ClaimOptions {
  /**
   * How long a claim holds the key before a retry may take it over (a crashed claimant frees
   * the key after this long). Extend it for longer work with `claim.extend()`.
   * @default 30_000
   */
  readonly leaseMs?: number;
  /**
   * How long the adapters keep renewing a claim's lease while its handler runs. A handler
   * still running then is taken for hung: its lease lapses `leaseMs` later, a retry may take
   * the key over and run the handler again, and the fence refuses every later write of the
   * hung one (its response is replaced by the key's answer). `Infinity` renews for as long
   * as the handler runs.
   * @default 300_000 (5 min)
   */
  readonly maxHoldMs?: number;
  /**
   * How long a completed key keeps replaying its response, from completion (and how long any
   * record lives at all); then the sweeper deletes it.
   * @default 86_400_000 (24 h)
   */
  readonly ttlMs?: number;
  /**
   * The largest response body stored for replay, in bytes. Past it the key is still completed
   * (the effect never runs twice) but the body is not stored: replays carry the status and
   * headers, an empty body and `bodyOmitted: true`, for the adapter to answer as it sees fit.
   * @default 1_048_576 (1 MiB)
   */
  readonly maxResponseBytes?: number;
  /**
   * Opt-in: how long `begin` waits for an in-flight claimant to finish (then replays its
   * response) before answering `in-flight`. 0 answers `in-flight` at once.
   * @default 0
   */
  readonly waitMs?: number;
  /**
   * How often a waiting `begin` asks the store again.
   * @default 50
   */
  readonly waitPollMs?: number;
}

/** Options of an {@link IdempotencyEngine}. */
export interface IdempotencyEngineOptions extends ClaimOptions {
  readonly store: IdempotencyStore;
  /**
   * Response headers stored and replayed (lower-case). `set-cookie`, `date`, `retry-after`,
   * rate-limit and framing headers are never stored, even when listed.
   * @default DEFAULT_REPLAY_HEADERS
   */
  readonly replayHeaders?: readonly string[];
  /**
   * Which statuses use the key up and which give it back.
   * @default defaultOutcomePolicy
   */
  readonly outcome?: OutcomePolicy;
  /**
   * The application clock (only bounds waits; stores keep their own time).
   * @default systemClock
   */
  readonly clock?: Clock;
}

/** Every setting of one `begin`, defaults applied. */
export interface BeginSettings {
  readonly leaseMs: number;
  readonly maxHoldMs: number;
  readonly ttlMs: number;
  readonly maxResponseBytes: number;
  readonly waitMs: number;
  readonly waitPollMs: number;
}

/** Engine-wide settings, defaults applied. */
export interface EngineSettings extends BeginSettings {
  readonly store: IdempotencyStore;
  readonly replayHeaders: ReadonlySet<string>;
  readonly outcome: OutcomePolicy;
  readonly clock: Clock;
}

/** The claim timings every route gets unless it says otherwise. */
export const claimDefaults: BeginSettings = {
  leaseMs: 30_000,
  maxHoldMs: 300_000,
  ttlMs: 86_400_000,
  maxResponseBytes: 1_048_576,
  waitMs: 0,
  waitPollMs: 50,
};

/** The one place defaults are applied: engine options over the defaults. */
export function engineSettings(options: IdempotencyEngineOptions): EngineSettings {
  return {
    ...routeSettings(claimDefaults, options),
    store: options.store,
    replayHeaders: new Set(
      (options.replayHeaders ?? DEFAULT_REPLAY_HEADERS).map((name) => name.toLowerCase()),
    ),
    outcome: options.outcome ?? defaultOutcomePolicy,
    clock: options.clock ?? systemClock,
  };
}

/** What each claim timing must be: a lease of 0 or NaN would let every retry run the effect again. */
const timingRules: Record<keyof BeginSettings, { readonly min: number; readonly infinite?: true }> = {
  leaseMs: { min: 1 },
  maxHoldMs: { min: 1, infinite: true },
  ttlMs: { min: 1 },
  maxResponseBytes: { min: 0 },
  waitMs: { min: 0 },
  waitPollMs: { min: 1 },
};

const timingEntries = Object.entries(timingRules) as [
  keyof BeginSettings,
  { min: number; infinite?: true },
][];

/** Refuses, at configuration, a claim timing that cannot work. */
function checkTimings(options: ClaimOptions): void {
  for (const [name, rule] of timingEntries) {
    const value = options[name];
    if (value === undefined) continue;
    const whole = Number.isSafeInteger(value) || (rule.infinite === true && value === Infinity);
    if (typeof value !== 'number' || !whole || value < rule.min) {
      throw new TollgateError(
        ErrorCode.OptionInvalid,
        `${name} must be an integer of at least ${rule.min}${rule.infinite ? ' (or Infinity)' : ''}; got ${String(value)}`,
      );
    }
  }
}

/** A route's options over the engine's settings. */
export function routeSettings(base: BeginSettings, route: ClaimOptions): BeginSettings {
  checkTimings(route);
  return {
    leaseMs: route.leaseMs ?? base.leaseMs,
    maxHoldMs: route.maxHoldMs ?? base.maxHoldMs,
    ttlMs: route.ttlMs ?? base.ttlMs,
    maxResponseBytes: route.maxResponseBytes ?? base.maxResponseBytes,
    waitMs: route.waitMs ?? base.waitMs,
    waitPollMs: route.waitPollMs ?? base.waitPollMs,
  };
}
