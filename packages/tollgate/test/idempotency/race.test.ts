import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createInterface, type Interface } from 'node:readline';
import pg from 'pg';
import { PostgresIdempotencyStore } from 'tollgate/postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, keyPrefix, redisUrl } from '../../../../testkit/index.ts';
import { countStatuses } from './contract.ts';

const processes = 3;
const perProcess = [17, 17, 16]; // 50 begins in all

/** A racer child process and the lines it prints. */
class Racer {
  private readonly lines: Interface;
  private readonly queue: string[] = [];
  private waiting: ((line: string) => void) | undefined;

  constructor(readonly child: ChildProcess) {
    this.lines = createInterface({ input: child.stdout! });
    this.lines.on('line', (line) => {
      if (this.waiting) {
        this.waiting(line);
        this.waiting = undefined;
      } else this.queue.push(line);
    });
  }

  next(): Promise<string> {
    const line = this.queue.shift();
    return line !== undefined ? Promise.resolve(line) : new Promise((resolve) => (this.waiting = resolve));
  }
}

describe('50 concurrent begins on one key from 3 processes, each with several connections', () => {
  const racers: Racer[] = [];

  beforeAll(async () => {
    const databaseUrl = await freshDatabase();
    const pool = new pg.Pool({ connectionString: databaseUrl, max: 1 });
    await new PostgresIdempotencyStore({ pool }).migrate();
    await pool.end();
    const prefix = keyPrefix();
    for (let i = 0; i < processes; i++) {
      const args = JSON.stringify({ redisUrl: redisUrl(), databaseUrl, prefix, perProcess: perProcess[i] });
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', new URL('./fixtures/racer.ts', import.meta.url).pathname, args],
        { stdio: ['pipe', 'pipe', 'inherit'] },
      );
      racers.push(new Racer(child));
    }
    for (const racer of racers) expect(await racer.next()).toBe('ready');
  });

  afterAll(() => {
    for (const racer of racers) racer.child.stdin!.end();
  });

  for (const kind of ['redis', 'postgres', 'tiered'] as const) {
    it(`grants exactly one claim through the ${kind} store`, async () => {
      const key = randomBytes(18).toString('base64url');
      for (const racer of racers) racer.child.stdin!.write(`${JSON.stringify({ kind, key })}\n`);
      const answers = (
        await Promise.all(racers.map(async (racer) => JSON.parse(await racer.next()) as string[]))
      ).flat();
      const counts = countStatuses(answers.map((status) => ({ status })));
      expect(answers).toHaveLength(50);
      expect(counts.new).toBe(1);
      expect((counts['in-flight'] ?? 0) + (counts.replay ?? 0)).toBe(49);
    });
  }
});
