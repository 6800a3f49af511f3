/** What every side-by-side benchmark needs: timed rounds, medians, percentiles, ratios. */

export interface Round {
  opsPerSecond: number;
  /** Latencies of every operation in the round, in milliseconds. */
  latencies: number[];
}

export interface Figures {
  opsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
}

/** Runs `op` `total` times with `inFlight` concurrent callers, timing each call. */
export async function round(
  op: (i: number) => Promise<unknown>,
  total: number,
  inFlight: number,
): Promise<Round> {
  const latencies = new Array<number>(total);
  let next = 0;
  const worker = async () => {
    while (next < total) {
      const i = next++;
      const started = performance.now();
      await op(i);
      latencies[i] = performance.now() - started;
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: inFlight }, worker));
  return { opsPerSecond: total / ((performance.now() - started) / 1000), latencies };
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Median throughput over the rounds; latency percentiles over the median round. */
export function summarise(rounds: readonly Round[]): Figures {
  const byThroughput = [...rounds].sort((a, b) => a.opsPerSecond - b.opsPerSecond);
  const middle = byThroughput[byThroughput.length >> 1]!;
  const sorted = [...middle.latencies].sort((a, b) => a - b);
  return {
    opsPerSecond: Math.round(median(rounds.map((r) => r.opsPerSecond))),
    p50Ms: Number(percentile(sorted, 50).toFixed(4)),
    p99Ms: Number(percentile(sorted, 99).toFixed(4)),
  };
}

/**
 * Median throughput over rounds that a load tool measured itself (autocannon); latency
 * percentiles of the median round, as in {@link summarise}.
 */
export function medianFigures(rounds: readonly Figures[]): Figures {
  const middle = [...rounds].sort((a, b) => a.opsPerSecond - b.opsPerSecond)[rounds.length >> 1]!;
  return {
    opsPerSecond: Math.round(median(rounds.map((r) => r.opsPerSecond))),
    p50Ms: middle.p50Ms,
    p99Ms: middle.p99Ms,
  };
}

/**
 * Runs contenders round-robin (A, B, A, B…) so drift on a shared machine hits all alike,
 * after one unrecorded warm-up round each.
 */
export async function compare(
  contenders: Record<string, (i: number) => Promise<unknown>>,
  options: { rounds: number; total: number; inFlight: number },
): Promise<Record<string, Figures>> {
  const results: Record<string, Round[]> = {};
  for (const [name, op] of Object.entries(contenders)) {
    await round(op, Math.min(options.total, 5000), options.inFlight);
    results[name] = [];
  }
  for (let r = 0; r < options.rounds; r++) {
    for (const [name, op] of Object.entries(contenders))
      results[name]!.push(await round(op, options.total, options.inFlight));
  }
  return Object.fromEntries(Object.entries(results).map(([name, rounds]) => [name, summarise(rounds)]));
}

export function printTable(title: string, figures: Record<string, Figures>): void {
  console.log(`\n${title}`);
  for (const [name, f] of Object.entries(figures)) {
    console.log(
      `  ${name.padEnd(42)} ${String(f.opsPerSecond).padStart(9)} ops/s   p50 ${f.p50Ms.toFixed(3)} ms   p99 ${f.p99Ms.toFixed(3)} ms`,
    );
  }
}

export function ratio(a: number, b: number): number {
  return Number((a / b).toFixed(2));
}
