/**
 * One process per PGlite directory: a second opener is refused while the first runs (two
 * processes on one directory each see only their own writes: a key charged twice, then
 * acknowledged payments lost), a lock whose process is gone is taken over, and closing unlocks.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { scratchDir } from '../../../testkit/index.ts';
import { DataDirInUseError, lockDataDir } from '../src/database/data-dir-lock.ts';
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
      expect(readFileSync(join(path, 'tollgate.lock'), 'utf8')).toMatch(new RegExp(`^${process.pid}\\b`));
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
      expect(readFileSync(join(path, 'tollgate.lock'), 'utf8')).toMatch(new RegExp(`^${process.pid}\\b`));
    } finally {
      await taken.close();
    }
  });

  it("takes over a lock that names this process's own id, or a live id that started at another time (a restart that reused the id)", () => {
    const path = join(dir.path, 'reused');
    mkdirSync(path, { recursive: true });
    // A container's restart: the new process has the id the crashed one wrote.
    writeFileSync(join(path, 'tollgate.lock'), `${process.pid} some-boot 42`);
    const release = lockDataDir(path);
    expect(() => lockDataDir(path)).toThrow(DataDirInUseError); // held now, by this process
    release();
    // After a reboot: the id is some live process's, but not the one that wrote the lock.
    writeFileSync(join(path, 'tollgate.lock'), `1 another-boot 7`);
    lockDataDir(path)();
  });

  it('lets exactly one of several processes starting at once take over a stale lock', {
    timeout: 60_000,
  }, async () => {
    const run = promisify(execFile);
    const module = new URL('../src/database/data-dir-lock.ts', import.meta.url).pathname;
    const script = `
      const { lockDataDir } = await import(${JSON.stringify(module)});
      const at = Number(process.argv[2]);
      while (Date.now() < at) {}
      try { lockDataDir(process.argv[1]); console.log('won'); await new Promise((r) => setTimeout(r, 1500)); }
      catch (error) { console.log(error.code === 'ERR_DATA_DIR_IN_USE' ? 'refused' : 'failed ' + error.message); }`;
    for (let round = 0; round < 4; round++) {
      const path = join(dir.path, `race-${round}`);
      mkdirSync(path, { recursive: true });
      writeFileSync(join(path, 'tollgate.lock'), '999999 gone 1'); // stale
      const at = Date.now() + 3000;
      const outcomes = await Promise.all(
        Array.from({ length: 5 }, () =>
          run(process.execPath, [
            '--import',
            'tsx',
            '--input-type=module',
            '-e',
            script,
            path,
            String(at),
          ]).then(({ stdout }) => stdout.trim()),
        ),
      );
      expect(
        outcomes.filter((outcome) => outcome === 'won'),
        outcomes.join(', '),
      ).toHaveLength(1);
      expect(outcomes.filter((outcome) => outcome === 'refused')).toHaveLength(4);
    }
  });
});
