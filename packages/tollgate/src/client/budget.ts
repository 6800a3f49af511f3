import type { Clock } from '../clock.ts';
import { RollingCounts } from './rolling-counts.ts';

/** How many retries a host may receive, relative to the requests sent to it. */
export interface RetryBudgetOptions {
  /**
   * Retries allowed as a fraction of the logical requests sent in the window. With 0.1 a dead
   * server sees at most ~1.1× its normal load from this client, not `maxAttempts`×.
   * @default 0.1
   */
  ratio?: number;
  /**
   * Retries always allowed per second on top of the ratio, so a client with little traffic can
   * still retry a lone failure.
   * @default 1
   */
  minPerSecond?: number;
  /**
   * The window over which requests and retries are counted, in ms.
   * @default 10_000
   */
  windowMs?: number;
}

/**
 * A retry budget in the manner of Finagle's and gRPC's retry throttling: each retry must fit in
 * `minPerSecond · windowMs / 1000 + ratio · requests` counted over the last `windowMs`.
 */
export class RetryBudget {
  readonly ratio: number;
  readonly floor: number;
  readonly #counts: RollingCounts<'requests' | 'retries'>;

  constructor(
    options: RetryBudgetOptions,
    private readonly clock: Pick<Clock, 'now'>,
  ) {
    const { ratio = 0.1, minPerSecond = 1, windowMs = 10_000 } = options;
    this.ratio = ratio;
    this.floor = (minPerSecond * windowMs) / 1000;
    this.#counts = new RollingCounts(['requests', 'retries'], windowMs);
  }

  /** A logical request (its first attempt) was sent. */
  recordRequest(): void {
    this.#counts.add(this.clock.now(), 'requests');
  }

  /** Whether one more retry fits in the budget now (nothing is taken). */
  allowsRetry(): boolean {
    const { requests, retries } = this.#counts.totals(this.clock.now());
    return retries + 1 <= this.floor + this.ratio * requests;
  }

  /** A retry was scheduled: it takes its share of the budget. */
  recordRetry(): void {
    this.#counts.add(this.clock.now(), 'retries');
  }
}
