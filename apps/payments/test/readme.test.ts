/**
 * Examples in the README are executed by a test: every ```sh block of "The payments service"
 * that calls curl runs in one bash session (so `$IDEMPOTENCY_KEY` carries over) against a
 * service started on a free port with `npm start`'s defaults, and each curl's status must be
 * the `# → status` written above it.
 */
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { settingNames } from '../src/config.ts';
import { type ServiceProcess, scratchDir, spawnService } from './service.ts';

const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
const section = readme.slice(
  readme.indexOf('## The payments service'),
  readme.indexOf('\n## ', readme.indexOf('## The payments service') + 5),
);
const blocks = [...section.matchAll(/^```sh\n([\s\S]*?)^```$/gm)]
  .map((match) => match[1]!)
  .filter((code) => code.includes('curl '));

describe('the payments service section of the README', () => {
  const dir = scratchDir();
  let service: ServiceProcess;
  beforeAll(async () => {
    service = await spawnService({ DATA_DIR: dir.path, API_KEY: '', API_KEYS: '' });
  });
  afterAll(async () => {
    service.child.kill('SIGTERM');
    await service.exited;
    dir.dispose();
  });

  it('has the quick start of exactly two commands', () => {
    const quickStart = readme.slice(
      readme.indexOf('## Quick start'),
      readme.indexOf('## The payments service'),
    );
    expect(quickStart.match(/^```sh\n([\s\S]*?)^```$/m)![1]).toBe('npm install && npm start\nnpm test\n');
  });

  it('lists every setting in its configuration table', () => {
    for (const name of settingNames) expect(section).toContain(`| \`${name}\` |`);
    expect(section).toContain('| `CONFIG_FILE` |');
  });

  it('has curl examples for every endpoint of the seed', () => {
    const all = blocks.join('\n');
    for (const path of [
      '/api/v1/payments',
      '/api/v1/rate-limits',
      '/api/v1/retry-config',
      '/api/v1/simulate-concurrent',
      '/health',
      '/metrics',
      '/api/v1/audit-logs',
    ]) {
      expect(all).toContain(`http://localhost:8000${path}`);
    }
  });

  it('runs every curl example with the status it shows', { timeout: 60_000 }, async () => {
    const expected = blocks.flatMap((code) =>
      [...code.matchAll(/^# → (\d{3})$/gm)].map((match) => Number(match[1])),
    );
    const curls = blocks.reduce((n, code) => n + (code.match(/^curl /gm)?.length ?? 0), 0);
    expect(expected.length).toBe(curls);
    const statuses = join(dir.path, 'statuses');
    const script = [
      'set -euo pipefail',
      // Every curl reports its status on stderr, which goes to the statuses file.
      `curl() { command curl -sS -w '%{stderr}%{http_code}\\n' "$@" 2>>${JSON.stringify(statuses)}; echo; }`,
      ...blocks.map((code) => code.replaceAll('http://localhost:8000', service.url)),
    ].join('\n');
    writeFileSync(join(dir.path, 'examples.sh'), script);
    const { stdout } = await promisify(execFile)('bash', [join(dir.path, 'examples.sh')], {
      maxBuffer: 1 << 24,
    });
    const got = readFileSync(statuses, 'utf8').trim().split('\n').map(Number);
    expect(got).toEqual(expected);
    expect(stdout).toMatch(/idempotent-replayed: true/i);
    expect(stdout).toContain('"processed":1');
  });
});
