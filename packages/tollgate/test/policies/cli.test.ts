import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = new URL('../../../../', import.meta.url).pathname;
const fixture = new URL('./fixtures/streamer.yaml', import.meta.url).pathname;
const scratch = mkdtempSync(join(tmpdir(), 'tollgate-policies-cli-'));

/** `npx tollgate …` as a user types it at the repository root: exit status and output. */
async function tollgate(args: string[], env: Record<string, string> = {}) {
  try {
    const { stdout, stderr } = await run('npx', ['tollgate', ...args], {
      cwd: root,
      env: { ...process.env, ...env },
      timeout: 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    if (typeof failed.code !== 'number') throw error;
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('npx tollgate policies', () => {
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('prints the tables of a valid file and exits 0, with --config and the environment applied', async () => {
    const config = join(scratch, 'config.json');
    writeFileSync(config, JSON.stringify({ limits: { votePerMin: 50, invoicePer5m: 6 } }));
    const result = await tollgate(['policies', fixture, '--config', config], { LIMITS_INVOICE_PER5M: '7' });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(
      '| `POST /api/votes` | `Idempotency-Key` header | Redis + `votes.idempotency_key` column | 24h |',
    );
    expect(result.stdout).toContain(
      '| Per user per streamer | `POST /api/votes` | 50 requests | 60s rolling | `limits.votePerMin` |',
    );
    expect(result.stdout).toContain(
      '| Per user | `POST /api/payments/stars/createInvoice` | 7 requests | 5m | `limits.invoicePer5m` |',
    );
    expect(result.stdout).toContain(
      '| Per worker | `/internal/worker/*` | 120 requests | 60s | `limits.workerBatchPerMin` |',
    );
  });

  it('prints every problem of a bad file and exits 1', async () => {
    const bad = join(scratch, 'bad.yaml');
    writeFileSync(
      bad,
      [
        'version: 1',
        'limits:',
        '  - name: vote',
        '    scope: [principal]',
        '    routes: [POST /api/votes]',
        '    limit: 30',
        '    window: 60 seconds',
        '    algorithm: sliding-window',
        '    burst: 40',
      ].join('\n'),
    );
    const result = await tollgate(['policies', bad]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(`policy file ${bad}: 2 problems`);
    expect(result.stderr).toContain('limits[0].window (line 7): "60 seconds" is not a duration.');
    expect(result.stderr).toContain(
      'limits[0].burst (line 9): applies to token-bucket and gcra only, not sliding-window.',
    );
  });

  it('exits 1 on a bad configuration value, and 2 on a usage mistake', async () => {
    const env = await tollgate(['policies', fixture], { LIMITS_VOTE_PER_MIN: 'many' });
    expect(env.code).toBe(1);
    expect(env.stderr).toContain(
      'LIMITS_VOTE_PER_MIN: the environment variable LIMITS_VOTE_PER_MIN for limits.votePerMin',
    );
    const usage = await tollgate(['polices', fixture]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('unknown command "polices"');
    expect(usage.stderr).toContain('Usage: tollgate policies <file> [--config <json file>]');
  });
});
