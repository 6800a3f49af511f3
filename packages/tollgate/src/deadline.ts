import { ErrorCode } from './codes.ts';
import { TollgateError } from './errors.ts';

/** The deadline of a store call when none is given (`storeTimeoutMs`), in milliseconds. */
export const DEFAULT_STORE_TIMEOUT_MS = 100;

/** A store call that did not answer within its deadline. */
export class StoreTimeoutError extends TollgateError {
  override readonly name = 'StoreTimeoutError';
  constructor(ms: number) {
    super(ErrorCode.StoreTimeout, `store did not answer within ${ms} ms`);
  }
}

interface Pending {
  readonly expiresAt: number;
  settled: boolean;
  readonly reject: (error: Error) => void;
}

/**
 * Deadlines for store calls that all share one timeout (the rate limiter's store calls, the
 * tiered idempotency store's Redis calls). A timer per call costs more than a fast
 * store call itself, so one timer serves them all: calls join a queue in the order their
 * deadlines fall, and the timer wakes for the oldest unsettled one.
 */
export class Deadline {
  private readonly queue: Pending[] = [];
  private head = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(readonly ms: number) {}

  /** Settles with `work`, or rejects with StoreTimeoutError once `ms` have passed. */
  guard<T>(work: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const pending: Pending = { expiresAt: performance.now() + this.ms, settled: false, reject };
      this.queue.push(pending);
      this.timer ??= setTimeout(this.expire, this.ms).unref();
      work.then(
        (value) => {
          pending.settled = true;
          resolve(value);
        },
        (error: unknown) => {
          pending.settled = true;
          reject(error);
        },
      );
    });
  }

  /** `work`'s value, or null when it fails or misses the deadline (for best-effort calls). */
  within<T>(work: Promise<T>): Promise<T | null> {
    return this.guard(work).catch(() => null);
  }

  /**
   * The timer fired: the expiry pass waits for the rest of this turn of the event loop, so a
   * reply that arrived while the loop was busy (it is read in the poll phase, after timers) is
   * taken rather than refused as late. Without it, a loop blocked past the deadline turns
   * every call answered meanwhile into a timeout (and a fail-open admission) under load.
   */
  private readonly expire = (): void => {
    setImmediate(this.sweep);
  };

  private readonly sweep = (): void => {
    this.timer = undefined;
    const now = performance.now();
    while (this.head < this.queue.length) {
      const pending = this.queue[this.head]!;
      if (!pending.settled && pending.expiresAt > now) break;
      this.head++;
      if (!pending.settled) {
        pending.settled = true;
        pending.reject(new StoreTimeoutError(this.ms));
      }
    }
    if (this.head === this.queue.length) {
      this.queue.length = 0;
      this.head = 0;
      return;
    }
    if (this.head > 1024) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
    this.timer = setTimeout(this.expire, Math.max(1, this.queue[this.head]!.expiresAt - now));
    this.timer.unref();
  };
}
