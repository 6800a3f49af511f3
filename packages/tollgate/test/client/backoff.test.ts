import fc from 'fast-check';
import { seededRandom } from 'tollgate/client';
import { describe, expect, it } from 'vitest';
import { backoffCeiling, fullJitter, retryDelay } from '../../src/client/backoff.ts';

const backoffs = fc.record({
  baseDelayMs: fc.integer({ min: 1, max: 10_000 }),
  maxDelayMs: fc.integer({ min: 1, max: 120_000 }),
});
const unit = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true });

describe('full jitter backoff', () => {
  it('waits within [0, min(cap, base·2^(n-1))) for every retry', () => {
    fc.assert(
      fc.property(backoffs, fc.integer({ min: 1, max: 2000 }), unit, (backoff, retry, r) => {
        const delay = fullJitter(retry, backoff, () => r);
        const ceiling = Math.min(backoff.maxDelayMs, backoff.baseDelayMs * 2 ** (retry - 1));
        expect(delay).toBeGreaterThanOrEqual(0);
        expect(delay).toBeLessThanOrEqual(ceiling);
        if (r < 1) expect(delay).toBeLessThan(ceiling);
        expect(backoffCeiling(retry, backoff)).toBe(ceiling);
      }),
    );
  });

  it('never waits less than the server asked for', () => {
    fc.assert(
      fc.property(
        backoffs,
        fc.integer({ min: 1, max: 50 }),
        unit,
        fc.nat(3_600_000),
        (backoff, retry, r, asked) => {
          expect(retryDelay(retry, backoff, () => r, asked)).toBeGreaterThanOrEqual(asked);
        },
      ),
    );
  });

  it('grows exponentially until the cap', () => {
    const backoff = { baseDelayMs: 100, maxDelayMs: 1_000 };
    expect([1, 2, 3, 4, 5].map((n) => backoffCeiling(n, backoff))).toEqual([100, 200, 400, 800, 1_000]);
  });

  it('is reproducible with a seeded random source', () => {
    const a = seededRandom(42);
    const b = seededRandom(42);
    const values = Array.from({ length: 1000 }, () => a());
    expect(values).toEqual(Array.from({ length: 1000 }, () => b()));
    expect(values.every((v) => v >= 0 && v < 1)).toBe(true);
    expect(new Set(values).size).toBeGreaterThan(990);
    expect(seededRandom(43)()).not.toBe(values[0]);
  });
});
