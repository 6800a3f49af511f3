import { mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Another live process has the data directory open: this one must not. */
export class DataDirInUseError extends Error {
  readonly code = 'ERR_DATA_DIR_IN_USE';
}

/** The lock's file, inside the directory: the holder's process id. */
const LOCK_FILE = 'tollgate.lock';

/**
 * Takes `dataDir` (created if missing) for this process: PGlite is one process's database, and
 * two processes writing one directory each see only their own writes — both would charge a
 * key once, and what one acknowledged is gone when the other's files win. A lock left by a
 * process that no longer runs (killed, crashed) is taken over.
 * @returns the release, to call once the database is closed.
 * @throws {DataDirInUseError} while a live process holds it (this one included).
 */
export function lockDataDir(dataDir: string): () => void {
  mkdirSync(dataDir, { recursive: true });
  const path = join(dataDir, LOCK_FILE);
  for (let attempt = 0; ; attempt++) {
    try {
      writeFileSync(path, `${process.pid}\n`, { flag: 'wx' });
      return () => {
        try {
          if (readFileSync(path, 'utf8').trim() === String(process.pid)) unlinkSync(path);
        } catch {
          // Gone already: nothing to release.
        }
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw error;
    }
    const holder = Number.parseInt(readFileSync(path, 'utf8'), 10);
    if (Number.isSafeInteger(holder) && holder > 0 && running(holder)) {
      throw new DataDirInUseError(
        `DATA_DIR ${dataDir} is in use by process ${holder}: PGlite serves one process. Stop that process first, or give each process its own DATA_DIR, or share PostgreSQL (DATABASE_URL) between them.`,
      );
    }
    // Stale: its process is gone. Whoever removes it and creates it anew first holds it.
    unlinkSync(path);
  }
}

/** Whether a process with this id runs (signal 0 checks without signalling). */
function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
