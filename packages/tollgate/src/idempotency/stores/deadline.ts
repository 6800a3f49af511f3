/** One call waiting under a {@link Deadline}. */
class Waiter<T> {
  constructor(
    private readonly resolve: (value: T | null) => void,
    private readonly bucket: Set<Waiter<unknown>>,
  ) {}

  settle(value: T | null): void {
    this.bucket.delete(this as Waiter<unknown>);
    this.resolve(value);
  }
}

/**
 * Gives up on calls that take longer than about `ms` (between `ms` and `2 × ms`), answering
 * null instead. One interval timer serves every call — a timer per call costs more than the
 * Redis round trip it guards — and it stops while nothing is waiting.
 */
export class Deadline {
  private current = new Set<Waiter<unknown>>();
  private previous = new Set<Waiter<unknown>>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly ms: number) {}

  /** `pending`'s value, or null when it fails or outlives the deadline. */
  within<T>(pending: Promise<T>): Promise<T | null> {
    this.timer ??= setInterval(() => this.tick(), this.ms).unref();
    return new Promise<T | null>((resolve) => {
      const waiter = new Waiter<T>(resolve, this.current);
      this.current.add(waiter as Waiter<unknown>);
      pending.then(
        (value) => waiter.settle(value),
        () => waiter.settle(null),
      );
    });
  }

  /** Calls waiting since before the last tick have had at least `ms`: they get null. */
  private tick(): void {
    for (const waiter of this.previous) waiter.settle(null);
    this.previous = this.current;
    this.current = new Set();
    if (this.previous.size === 0) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }
}
