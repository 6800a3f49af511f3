/**
 * Examples in the README are executed by a test: every ```sh block of "The payments service"
 * that calls curl runs in one bash session (so `$IDEMPOTENCY_KEY` carries over) against a
 * service started on a free port with `npm start`'s defaults, and each curl's status must be
 * the `# → status` written above it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  curlBlocks,
  promised,
  readme,
  readmeSection,
  runCurlBlocks,
} from '../../../testkit/readme-examples.ts';
import { settingNames } from '../src/config.ts';
import { type ServiceProcess, scratchDir, spawnService } from './service.ts';

const section = readmeSection('The payments service');
const blocks = curlBlocks(section);

describe('the payments service section of the README', () => {
  const dir = scratchDir();
  let service: ServiceProcess;
  beforeAll(async () => {
    // No key setting at all (not even one this test process has): the README's development key.
    service = await spawnService({ DATA_DIR: dir.path, API_KEY: undefined, API_KEYS: undefined });
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
    const { statuses: expected, curls } = promised(blocks);
    expect(expected.length).toBe(curls);
    const { statuses, stdout } = await runCurlBlocks(blocks, {
      documented: 'http://localhost:8000',
      url: service.url,
      dir: dir.path,
    });
    expect(statuses).toEqual(expected);
    expect(stdout).toMatch(/idempotent-replayed: true/i);
    expect(stdout).toContain('"processed":1');
  });
});
