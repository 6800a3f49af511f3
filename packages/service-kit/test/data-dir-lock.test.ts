/**
 * One process per PGlite directory: a second opener is refused while the first runs (two
 * processes on one directory each see only their own writes: a key charged twice, then
 * acknowledged payments lost), a lock whose process is gone is taken over, and closing unlocks.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { scratchDir } from '../../../testkit/index.ts';
import { DataDirInUseError } from '../src/database/data-dir-lock.ts';
import type { ServiceSchema } from '../src/database/database.ts';
import { openPGlite } from '../src/database/pglite.ts';

/** A service with no tables or statements of its own (this folder holds no migrations). */
const noTables: ServiceSchema = {
  name: 'kit_test',
  migrations: new URL('./', import.meta.url),
  statements: {},
};

describe('a PGlite data directory', () => {
  const dir = scratchDir();
  afterAll(() => dir.dispose());

  it('refuses a second opener while the first has it, and opens again once it is closed', async () => {
    const path = join(dir.path, 'one');
    const first = await openPGlite(path, noTables);
    try {
      expect(readFileSync(join(path, 'tollgate.lock'), 'utf8').trim()).toBe(String(process.pid));
      const second = openPGlite(path, noTables);
      await expect(second).rejects.toThrow(DataDirInUseError);
      await expect(second).rejects.toThrow(`in use by process ${process.pid}`);
      await first.query('CREATE TABLE kept (n int)');
      await first.query('INSERT INTO kept VALUES (1)');
    } finally {
      await first.close();
    }
    const again = await openPGlite(path, noTables);
    try {
      expect(await again.query('SELECT n FROM kept')).toEqual([{ n: 1 }]);
    } finally {
      await again.close();
    }
  });

  it('refuses while another live process holds it, and takes over a lock whose process is gone', async () => {
    const path = join(dir.path, 'two');
    const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)'], { stdio: 'ignore' });
    try {
      mkdirSync(path, { recursive: true });
      writeFileSync(join(path, 'tollgate.lock'), `${holder.pid}\n`);
      await expect(openPGlite(path, noTables)).rejects.toThrow(`in use by process ${holder.pid}`);
    } finally {
      holder.kill('SIGKILL');
      await new Promise((resolve) => holder.once('exit', resolve));
    }
    // The holder was killed without unlocking (as a crash leaves it): the lock is stale.
    expect(readFileSync(join(path, 'tollgate.lock'), 'utf8').trim()).toBe(String(holder.pid));
    const taken = await openPGlite(path, noTables);
    try {
      expect(readFileSync(join(path, 'tollgate.lock'), 'utf8').trim()).toBe(String(process.pid));
    } finally {
      await taken.close();
    }
  });
});
