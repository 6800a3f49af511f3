/**
 * Every ```ts block of the README runs here as an ES module, importing tollgate the way
 * users do ('tollgate', 'tollgate/redis', …). Blocks check their own claims with
 * node:assert, and reach the run's servers through REDIS_URL and DATABASE_URL.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, redisUrl } from '../../../testkit/index.ts';

const root = new URL('../../../', import.meta.url);
const readme = readFileSync(new URL('README.md', root), 'utf8');
const blocks = [...readme.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((match) => match[1]!);
const scratch = new URL('.tmp/readme/', root);

describe('README examples', () => {
  beforeAll(async () => {
    mkdirSync(scratch, { recursive: true });
    process.env.REDIS_URL = redisUrl();
    process.env.DATABASE_URL = await freshDatabase();
  });
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('has examples to run', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(2);
  });

  blocks.forEach((code, index) => {
    const firstLine = code.split('\n').find((line) => !line.startsWith('import') && line.trim() !== '') ?? '';
    it(`block ${index + 1} runs: ${firstLine.slice(0, 60)}`, async () => {
      const file = new URL(`block-${index + 1}.ts`, scratch);
      writeFileSync(file, code);
      await import(/* @vite-ignore */ file.href);
    });
  });
});
