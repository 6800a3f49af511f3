/**
 * The audit trail pages newest first on a stable keyset cursor: for any number of entries and
 * any page size, following `next_cursor` returns every entry exactly once, in order — across
 * the id boundaries (9→10, 99→100) where ordering the id's text goes wrong.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase } from '../../../testkit/index.ts';
import { queries } from '../src/sql/queries.ts';
import { type RunningService, startService } from './service.ts';

const RUNS = 25;

describe('GET /api/v1/audit-logs paging', () => {
  let service: RunningService;
  beforeAll(async () => {
    const keys = Array.from({ length: RUNS }, (_, i) => `key-p${i}:p${i}`).join(',');
    service = await startService({
      DATABASE_URL: await freshDatabase(),
      API_KEYS: keys,
      RATE_LIMIT_GLOBAL: '1000000',
      RATE_LIMIT_USER: '1000000',
      RATE_LIMIT_BURST_RATE: '1000000',
      RATE_LIMIT_BURST_CAPACITY: '1000000',
    });
  });
  afterAll(() => service?.close());

  it('returns every entry exactly once, newest first, for any count and page size', {
    timeout: 120_000,
  }, async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 130 }),
        fc.integer({ min: 1, max: 100 }),
        async (count, size) => {
          const principal = `p${run++}`;
          const db = service.services.database;
          // Another principal's entries interleave with this one's, so ids have gaps.
          for (let i = 0; i < count; i++) {
            for (const who of [principal, 'someone-else']) {
              await db.query(queries.insertAudit, [who, 'payment.created', `txn_${i}`, `req-${i}`, '{}']);
            }
          }
          const inserted = await db.query<{ id: string }>(
            'SELECT id::text FROM audit_logs WHERE principal = $1 ORDER BY audit_logs.id DESC',
            [principal],
          );
          const seen: string[] = [];
          let cursor: string | null = null;
          for (let page = 0; page <= count; page++) {
            const query = `limit=${size}${cursor === null ? '' : `&cursor=${cursor}`}`;
            const response = await fetch(`${service.url}/api/v1/audit-logs?${query}`, {
              headers: { authorization: `Bearer key-${principal}` },
            });
            expect(response.status).toBe(200);
            const body = (await response.json()) as { items: { id: string }[]; next_cursor: string | null };
            expect(body.items.length).toBeLessThanOrEqual(size);
            seen.push(...body.items.map((item) => item.id));
            cursor = body.next_cursor;
            if (cursor === null) break;
          }
          expect(cursor).toBeNull();
          expect(seen).toEqual(inserted.map((row) => row.id));
        },
      ),
      { numRuns: RUNS },
    );
  });
});
