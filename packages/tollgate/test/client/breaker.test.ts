import { type BreakerStateName, ConsecutiveFailures, FailureRate, type TripCondition } from 'tollgate/client';
import { describe, expect, it } from 'vitest';
import { CircuitBreaker } from '../../src/client/breaker/circuit-breaker.ts';

function harness(trip: () => TripCondition = () => new ConsecutiveFailures(3), probes = 1) {
  const clock = { now: 0 };
  const changes: string[] = [];
  const breaker = new CircuitBreaker(
    { trip, halfOpenAfterMs: 1_000, probes },
    { now: () => clock.now },
    (from, to) => changes.push(`${from}→${to}`),
  );
  const call = (ok: boolean) => {
    const admission = breaker.admit();
    if (!admission) return 'rejected';
    if (ok) breaker.success(admission);
    else breaker.failure(admission);
    return 'sent';
  };
  return { clock, changes, breaker, call, state: (): BreakerStateName => breaker.state.name };
}

describe('circuit breaker', () => {
  it('opens after consecutive failures and fails fast while open', () => {
    const { call, state } = harness();
    call(false);
    call(false);
    call(true); // a success restarts the count
    call(false);
    call(false);
    expect(state()).toBe('closed');
    call(false);
    expect(state()).toBe('open');
    expect(call(true)).toBe('rejected');
  });

  it('half-opens after the wait, reopens on a failed probe, closes on a good one', () => {
    const { clock, call, state, changes } = harness();
    for (let i = 0; i < 3; i++) call(false);
    clock.now = 999;
    expect(call(true)).toBe('rejected');
    clock.now = 1_000;
    expect(call(false)).toBe('sent');
    expect(state()).toBe('open');
    clock.now = 2_000;
    expect(call(true)).toBe('sent');
    expect(state()).toBe('closed');
    expect(changes).toEqual([
      'closed→open',
      'open→half-open',
      'half-open→open',
      'open→half-open',
      'half-open→closed',
    ]);
  });

  it('lets only the allowed number of probes through while half-open', () => {
    const { clock, breaker, call } = harness(undefined, 2);
    for (let i = 0; i < 3; i++) call(false);
    clock.now = 1_000;
    const first = breaker.admit();
    const second = breaker.admit();
    expect(first?.probe && second?.probe).toBe(true);
    expect(breaker.admit()).toBeUndefined();
    breaker.release(first!); // an aborted probe frees its slot
    expect(breaker.admit()).toBeDefined();
  });

  it('opens on a failure rate once enough calls are seen', () => {
    const { clock, call, state } = harness(
      () => new FailureRate({ threshold: 0.5, windowMs: 10_000, minimumCalls: 10 }),
    );
    for (let i = 0; i < 5; i++) call(true);
    for (let i = 0; i < 4; i++) call(false);
    expect(state()).toBe('closed'); // 4 of 9: too few calls, and under the threshold
    call(false);
    expect(state()).toBe('open'); // 5 of 10
    clock.now = 1_000;
    call(true);
    expect(state()).toBe('closed');
    call(false);
    expect(state()).toBe('closed'); // the history was reset on closing
  });
});
