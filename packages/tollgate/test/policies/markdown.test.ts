import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { scopeLabel } from '../../src/policies/markdown.ts';
import { loadPolicies } from '../../src/policies.ts';

const fixture = new URL('./fixtures/streamer.yaml', import.meta.url).pathname;
const seeds = new URL('../../../../../shared/seeds/', import.meta.url);
const seedName = readdirSync(seeds).find((name) => name.startsWith('000_'))!;
const seed = readFileSync(new URL(seedName, seeds), 'utf8');

/** The table rows of a Markdown text, table by table. */
function tables(markdown: string): string[][] {
  const found: string[][] = [];
  let current: string[] | undefined;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('|')) {
      if (current === undefined) {
        current = [];
        found.push(current);
      }
      current.push(line);
    } else {
      current = undefined;
    }
  }
  return found;
}

describe('markdown()', () => {
  it("prints seed 000's two tables back, row by row", () => {
    const printed = tables(loadPolicies({ path: fixture }).markdown());
    const expected = tables(seed);
    expect(expected).toHaveLength(2);
    expect(printed).toHaveLength(2);
    for (const [index, table] of expected.entries()) {
      expect(printed[index]).toHaveLength(table.length);
      for (const [at, row] of table.entries()) expect(printed[index]![at]).toBe(row);
    }
  });

  it('prints the limits in force after configuration values', () => {
    const document = loadPolicies(
      { path: fixture },
      { overrides: { 'limits.votePerMin': 50, 'limits.withdrawPerHour': 1 } },
    );
    const rows = tables(document.markdown())[1]!;
    expect(rows[2]).toBe(
      '| Per user per streamer | `POST /api/votes` | 50 requests | 60s rolling | `limits.votePerMin` |',
    );
    expect(rows[5]).toBe(
      '| Per user | `POST /api/wallet/withdraw` | 1 request | 1h | `limits.withdrawPerHour` |',
    );
    expect(rows[3]).toBe(
      '| Per user | `POST /api/streamers` | 5 requests | 10m | `limits.streamerSubmitPer10m` |',
    );
  });

  it('words optional header keys, operations, missing columns and pipes so the table stays a table', () => {
    const document = loadPolicies({
      text: [
        'version: 1',
        'idempotency:',
        '  - route: PUT /a/:id',
        '    key: { header: X-Key }',
        '    required: false',
        '    notes: "a | b"',
        'limits:',
        '  - { name: a, scope: [ip, param:account_id], routes: [PUT /a/:id, GET /b], limit: 4, window: 1s, counts: operations }',
      ].join('\n'),
    });
    const [idempotency, limits] = tables(document.markdown());
    expect(idempotency![2]).toBe('| `PUT /a/:id` | `X-Key` header (optional) | — | 24h | a \\| b |');
    expect(limits![2]).toBe('| Per IP per account | `PUT /a/:id`, `GET /b` | 4 requests | 1s | — |');
  });

  it('says None. for an empty table', () => {
    const markdown = loadPolicies({ text: 'version: 1' }).markdown();
    expect(markdown).toBe('## Idempotency Requirements\n\nNone.\n\n## Rate Limits\n\nNone.\n');
  });

  it('derives the Scope column from the subject', () => {
    expect(scopeLabel([])).toBe('Global');
    expect(scopeLabel(['principal'])).toBe('Per user');
    expect(scopeLabel(['principal', 'body:streamer_id'])).toBe('Per user per streamer');
    expect(scopeLabel(['route', 'body:order.customerId'])).toBe('Per route per customer');
  });
});
