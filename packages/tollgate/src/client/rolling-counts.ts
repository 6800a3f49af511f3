/**
 * Rolling counts of a few named events (requests and retries, successes and failures) over
 * the last `sizeMs`, kept in `buckets` slices so memory stays constant whatever the traffic.
 * Time is passed in, so tests drive it. Not a rate-limit algorithm: nothing is admitted here.
 */
export class RollingCounts<K extends string> {
  readonly #width: number;
  readonly #slices: { epoch: number; counts: Record<K, number> }[];

  constructor(
    readonly keys: readonly K[],
    readonly sizeMs: number,
    buckets = 10,
  ) {
    this.#width = Math.max(1, Math.ceil(sizeMs / buckets));
    this.#slices = Array.from({ length: buckets }, () => ({ epoch: -Infinity, counts: this.#zero() }));
  }

  add(now: number, key: K, n = 1): void {
    const epoch = Math.floor(now / this.#width);
    const slice = this.#slices[epoch % this.#slices.length]!;
    if (slice.epoch !== epoch) {
      slice.epoch = epoch;
      slice.counts = this.#zero();
    }
    slice.counts[key] += n;
  }

  totals(now: number): Record<K, number> {
    const current = Math.floor(now / this.#width);
    const sum = this.#zero();
    for (const slice of this.#slices) {
      if (slice.epoch <= current - this.#slices.length) continue;
      for (const key of this.keys) sum[key] += slice.counts[key];
    }
    return sum;
  }

  clear(): void {
    for (const slice of this.#slices) slice.epoch = -Infinity;
  }

  #zero(): Record<K, number> {
    return Object.fromEntries(this.keys.map((key) => [key, 0])) as Record<K, number>;
  }
}
