import type { IdempotencyStore } from './store.ts';

/** Options of {@link sweepExpired} and {@link Sweeper}. */
export interface SweepOptions {
  /**
   * Records deleted per statement: small batches keep each transaction and its locks short.
   * @default 500
   */
  readonly batchSize?: number;
  /**
   * The most batches one sweep runs, so a large backlog is worked off over several sweeps.
   * @default 100
   */
  readonly maxBatches?: number;
}

/** Deletes expired records batch by batch until a batch comes back short; returns how many. */
export async function sweepExpired(store: IdempotencyStore, options: SweepOptions = {}): Promise<number> {
  const batchSize = options.batchSize ?? 500;
  const maxBatches = options.maxBatches ?? 100;
  let total = 0;
  for (let batch = 0; batch < maxBatches; batch++) {
    const swept = await store.sweep(batchSize);
    total += swept;
    if (swept < batchSize) break;
  }
  return total;
}

/** Options of {@link Sweeper}. */
export interface SweeperOptions extends SweepOptions {
  /**
   * How often a sweep runs.
   * @default 60_000
   */
  readonly intervalMs?: number;
  /**
   * Called with each sweep's failure; the sweeper keeps going.
   * @default ignore
   */
  readonly onError?: (error: unknown) => void;
}

/**
 * Runs {@link sweepExpired} every `intervalMs` in the background (the timer does not keep the
 * process alive). Safe in every process at once: sweepers skip each other's rows.
 */
export class Sweeper {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly store: IdempotencyStore,
    private readonly options: SweeperOptions = {},
  ) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      this.running = sweepExpired(this.store, this.options).catch((error) => this.options.onError?.(error));
    }, this.options.intervalMs ?? 60_000);
    this.timer.unref();
  }

  /** Stops the timer and waits for a sweep in progress. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
