import { linkSync, mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Another live process has the data directory open: this one must not. */
export class DataDirInUseError extends Error {
  readonly code = 'ERR_DATA_DIR_IN_USE';
}

/** The lock's file, inside the directory: who holds it (see {@link identity}). */
const LOCK_FILE = 'tollgate.lock';

/** Directories this process holds (a second opener in the same process is refused too). */
const held = new Set<string>();

/**
 * Takes `dataDir` (created if missing) for this process: PGlite is one process's database, and
 * two processes writing one directory each see only their own writes — both would charge a
 * key once, and what one acknowledged is gone when the other's files win.
 *
 * The lock names its holder by process id and, where `/proc` tells, the process's start time,
 * so a lock left by a process that is gone — killed, crashed, or before a reboot or a container
 * restart that gave this process the same id — is taken over. Taking one over is serialized by
 * a second, exclusive file, so of several processes starting at once exactly one wins.
 * @returns the release, to call once the database is closed.
 * @throws {DataDirInUseError} while a live process holds it (this one included).
 */
export function lockDataDir(dataDir: string): () => void {
  mkdirSync(dataDir, { recursive: true });
  const path = join(dataDir, LOCK_FILE);
  if (held.has(path)) throw inUse(dataDir, process.pid);
  const mine = identity(process.pid);
  const draft = `${path}.${process.pid}.${Date.now()}`;
  writeFileSync(draft, mine);
  try {
    for (let attempt = 0; attempt < 50; attempt++) {
      if (exclusively(draft, path)) return holding(path, mine);
      const holder = readIfThere(path);
      if (holder === undefined) continue; // released meanwhile: try again
      if (alive(holder)) throw inUse(dataDir, Number.parseInt(holder, 10));
      // Stale. Whoever takes the takeover file decides; the others look again afterwards.
      const takeover = `${path}.takeover`;
      if (!exclusively(draft, takeover)) {
        const taker = readIfThere(takeover);
        if (taker !== undefined && !alive(taker)) unlinkQuietly(takeover); // a taker that died mid-way
        continue;
      }
      try {
        // Still the stale holder seen above (nobody replaced it before this took over)?
        if (readIfThere(path) === holder) {
          renameSync(draft, path);
          return holding(path, mine);
        }
      } finally {
        unlinkQuietly(takeover);
      }
    }
    throw new Error(`DATA_DIR ${dataDir}: could not take its lock (${LOCK_FILE}) after 50 attempts`);
  } finally {
    unlinkQuietly(draft);
  }
}

function holding(path: string, mine: string): () => void {
  held.add(path);
  return () => {
    held.delete(path);
    if (readIfThere(path) === mine) unlinkQuietly(path);
  };
}

function inUse(dataDir: string, pid: number): DataDirInUseError {
  return new DataDirInUseError(
    `DATA_DIR ${dataDir} is in use by process ${pid}: PGlite serves one process. Stop that process first, or give each process its own DATA_DIR, or share PostgreSQL (DATABASE_URL) between them.`,
  );
}

/** Creates `target` as a hard link to `source` unless it exists (atomic): whether it did. */
function exclusively(source: string, target: string): boolean {
  try {
    linkSync(source, target);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

/** `pid` and, on Linux, when it started (clock ticks since boot, and the boot's id). */
function identity(pid: number): string {
  return `${pid} ${startOf(pid) ?? ''}`.trim();
}

/** Whether the process a lock names still runs: its id is alive and, where known, started then. */
function alive(holder: string): boolean {
  const [pidText = '', ...start] = holder.trim().split(' ');
  const pid = Number.parseInt(pidText, 10);
  // This process's own id on a lock it does not hold (`held` is checked first): left by an
  // earlier process that had the same id (a container's restart).
  if (!Number.isSafeInteger(pid) || pid <= 0 || pid === process.pid) return false;
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const now = startOf(pid);
  return start.length === 0 || now === undefined || start.join(' ') === now;
}

/** `<boot id> <start ticks>` of a process from /proc (Linux); undefined elsewhere. */
function startOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command (which may hold spaces) start after its closing parenthesis.
    const ticks = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
    const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    return ticks === undefined ? undefined : `${boot} ${ticks}`;
  } catch {
    return undefined;
  }
}

function readIfThere(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Gone already.
  }
}
