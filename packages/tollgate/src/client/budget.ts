import { SlidingWindow } from './sliding-window.ts';

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
  window?: number;
}

/**
 * A retry budget in the manner of Finagle's and gRPC's retry throttling: each retry must fit in
 * `minPerSecond · window + ratio · requests` counted over the last `window` ms.
 */
export class RetryBudget {
  readonly ratio: number;
  readonly floor: number;
  readonly #counts: SlidingWindow<'requests' | 'retries'>;

  constructor(
    options: RetryBudgetOptions,
    private readonly now: () => number,
  ) {
    const { ratio = 0.1, minPerSecond = 1, window = 10_000 } = options;
    this.ratio = ratio;
    this.floor = (minPerSecond * window) / 1000;
    this.#counts = new SlidingWindow(['requests', 'retries'], window);
  }

  /** A logical request (its first attempt) was sent. */
  recordRequest(): void {
    this.#counts.add(this.now(), 'requests');
  }

  /** Takes one retry from the budget; `false` when the budget is spent (nothing is taken). */
  tryRetry(): boolean {
    const now = this.now();
    const { requests, retries } = this.#counts.totals(now);
    if (retries + 1 > this.floor + this.ratio * requests) return false;
    this.#counts.add(now, 'retries');
    return true;
  }
}
