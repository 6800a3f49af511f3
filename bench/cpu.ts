/**
 * CPU accounting for the benchmarks that run servers in other processes: how much processor
 * time each side used per operation, so a ratio can be read as a budget (where did the time
 * go: the service, PostgreSQL, Redis, or the load generator sharing the machine). Linux only
 * (`/proc`); elsewhere every figure is undefined.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** Linux reports CPU time in clock ticks of 1/100 s (USER_HZ) on every mainstream architecture. */
const TICKS_PER_SECOND = 100;

/** The `stat` fields after the command name (which may hold spaces), or undefined once the process is gone. */
function statOf(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** User + system CPU seconds each of `pids` has used so far (a process gone is left out). */
function cpuSeconds(pids: readonly number[]): Map<number, number> {
  const used = new Map<number, number>();
  for (const pid of pids) {
    // utime and stime: fields 14 and 15 of stat, 12 and 13 after the command name.
    const fields = statOf(pid);
    if (fields !== undefined) used.set(pid, (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND);
  }
  return used;
}

/** `pid` and its direct children (a PostgreSQL postmaster and its backends). */
export function withChildren(pid: number): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [pid];
  }
  const children = entries.filter(
    (entry) => /^\d+$/.test(entry) && statOf(Number(entry))?.[1] === String(pid),
  );
  return [pid, ...children.map(Number)];
}

/**
 * Measures `run`, charging the CPU each group of processes used meanwhile to its operations:
 * microseconds of CPU per operation, by group (groups are listed again afterwards, so a process
 * started meanwhile counts whole; groups that used under 1 µs are left out). Undefined without
 * `/proc`.
 */
export async function cpuPerOperation<T extends { operations: number }>(
  groups: Readonly<Record<string, () => readonly number[]>>,
  run: () => Promise<T>,
): Promise<T & { cpuMicros?: Record<string, number> }> {
  if (statOf(process.pid) === undefined) return run();
  const before = Object.values(groups).map((pids) => cpuSeconds(pids()));
  const result = await run();
  const cpuMicros: Record<string, number> = {};
  Object.entries(groups).forEach(([name, pids], i) => {
    let seconds = 0;
    for (const [pid, used] of cpuSeconds(pids())) seconds += used - (before[i]!.get(pid) ?? 0);
    const micros = result.operations > 0 ? (seconds * 1e6) / result.operations : 0;
    if (micros >= 1) cpuMicros[name] = Math.round(micros);
  });
  return { ...result, cpuMicros };
}
