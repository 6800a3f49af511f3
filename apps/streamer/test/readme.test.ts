/**
 * The README's streamer examples are executed: every ```sh block of "The streamer service"
 * that calls curl runs in one bash session (so `$STREAMER_ID` and the others carry over)
 * against a fresh service with `npm run start:streamer`'s defaults, and each curl's status must
 * be the `# → status` written above it.
 */
import { readFileSync } from 'node:fs';
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

const section = readmeSection('The streamer service');
const blocks = curlBlocks(section);
const policies = readFileSync(new URL('../policies.yaml', import.meta.url), 'utf8');

describe('the streamer service section of the README', () => {
  const dir = scratchDir();
  let service: ServiceProcess;
  beforeAll(async () => {
    service = await spawnService({
      DATA_DIR: dir.path,
      API_KEYS: undefined,
      WORKER_KEYS: undefined,
      TELEGRAM_WEBHOOK_SECRET: undefined,
    });
  });
  afterAll(async () => {
    service.child.kill('SIGTERM');
    await service.exited;
    dir.dispose();
  });

  it('names npm run start:streamer in the quick start', () => {
    const quickStart = readme.slice(
      readme.indexOf('## Quick start'),
      readme.indexOf('\n## ', readme.indexOf('## Quick start') + 5),
    );
    expect(quickStart).toContain('npm run start:streamer');
  });

  it('lists every setting and every configuration key of policies.yaml in its configuration table', () => {
    for (const name of settingNames) expect(section).toContain(`| \`${name}\` |`);
    const keys = [...policies.matchAll(/configKey: (limits\.\w+)/g)].map((match) => match[1]!);
    expect(keys).toHaveLength(6);
    for (const key of keys) {
      const variable = key
        .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
        .replaceAll('.', '_')
        .toUpperCase();
      expect(section).toContain(`| \`${variable}\` |`);
      expect(section).toContain(`\`${key}\``);
    }
  });

  it('has a curl example for every endpoint row', () => {
    const all = blocks.join('\n');
    for (const path of [
      '/api/streamers',
      '/api/streamers/$STREAMER_ID',
      '/api/payments/stars/createInvoice',
      '/api/payments/stars/invoices/$INVOICE_ID',
      '/integrations/telegram/payments',
      '/api/wallet ',
      '/api/votes',
      '/api/wallet/withdraw',
      '/internal/worker/events',
      '/internal/worker/media',
      '/internal/worker/streamer-status',
      '/health',
      '/metrics',
    ]) {
      expect(all).toContain(`http://localhost:8001${path}`);
    }
  });

  it('runs every curl example with the status it shows', { timeout: 60_000 }, async () => {
    const { statuses: expected, curls } = promised(blocks);
    expect(expected.length).toBe(curls);
    const { statuses, stdout } = await runCurlBlocks(blocks, {
      documented: 'http://localhost:8001',
      url: service.url,
      dir: dir.path,
    });
    expect(statuses).toEqual(expected);
    expect(stdout).toMatch(/idempotent-replayed: true/i);
    expect(stdout).toContain('"accepted":1,"duplicates":1');
    expect(stdout).toContain('"type":"https://tollgate.dev/problems/insufficient-funds"');
    expect(stdout).toMatch(/"balance":100,"ledger":\[\{[^\]]*"kind":"credit","amount":100/);
  });
});
