import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RetryBudget } from '../../src/client/budget.ts';

/** What the client does before a wait: take a retry only when it fits. */
function tryRetry(budget: RetryBudget): boolean {
  if (!budget.allowsRetry()) return false;
  budget.recordRetry();
  return true;
}

describe('retry budget', () => {
  it('never grants more than floor + ratio × requests in a window (property)', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.nat(5),
        fc.array(fc.boolean(), { maxLength: 500 }),
        (ratio, minPerSecond, steps) => {
          const budget = new RetryBudget({ ratio, minPerSecond, windowMs: 10_000 }, { now: () => 0 });
          let requests = 0;
          let granted = 0;
          for (const isRequest of steps) {
            if (isRequest) {
              budget.recordRequest();
              requests += 1;
            } else if (tryRetry(budget)) granted += 1;
            expect(granted).toBeLessThanOrEqual(minPerSecond * 10 + ratio * requests + 1e-9);
          }
        },
      ),
    );
  });

  it('grants retries up to the ratio once the floor is spent', () => {
    const budget = new RetryBudget({ ratio: 0.1, minPerSecond: 0, windowMs: 10_000 }, { now: () => 0 });
    for (let i = 0; i < 100; i++) budget.recordRequest();
    const granted = Array.from({ length: 50 }, () => tryRetry(budget)).filter(Boolean).length;
    expect(granted).toBe(10);
  });

  it('forgets requests and retries older than the window', () => {
    let now = 0;
    const budget = new RetryBudget({ ratio: 0.5, minPerSecond: 0, windowMs: 1_000 }, { now: () => now });
    budget.recordRequest();
    budget.recordRequest();
    expect(tryRetry(budget)).toBe(true);
    expect(tryRetry(budget)).toBe(false);
    now = 1_500;
    expect(tryRetry(budget)).toBe(false); // the requests that paid for retries are gone
    budget.recordRequest();
    budget.recordRequest();
    expect(tryRetry(budget)).toBe(true); // and so is the retry that was spent
  });
});
