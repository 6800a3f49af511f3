import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type LoopEvent, type LoopState, nextStep } from '../../src/client/retry-loop.ts';

const NOW = Date.UTC(2030, 0, 1);

function state(overrides: Partial<LoopState> = {}): LoopState {
  return {
    settings: {
      maxAttempts: 3,
      baseDelayMs: 100,
      maxDelayMs: 10_000,
      attemptTimeoutMs: 10_000,
      random: () => 0.5,
    },
    request: { method: 'POST', url: 'http://api.test/charges', keyed: true },
    origin: 'http://api.test',
    attempt: 1,
    now: NOW,
    deadlineAt: NOW + 30_000,
    deadlineMs: 30_000,
    budget: { allowsRetry: true, ratio: 0.1 },
    ...overrides,
  };
}

const response = (status: number, headers: Record<string, string> = {}): LoopEvent => ({
  kind: 'response',
  response: new Response(null, { status, headers }),
});
const lost: LoopEvent = { kind: 'failure', cause: new Error('socket'), code: 'UND_ERR_SOCKET', sent: true };

describe('the retry loop, step by step', () => {
  it('sends a due attempt within what is left of the deadline', () => {
    expect(nextStep({ kind: 'due' }, state())).toEqual({ kind: 'send', timeoutMs: 10_000 });
    expect(nextStep({ kind: 'due' }, state({ now: NOW + 29_950 }))).toEqual({ kind: 'send', timeoutMs: 50 });
    expect(nextStep({ kind: 'due' }, state({ now: NOW + 30_000 }))).toMatchObject({
      kind: 'give-up',
      code: 'ERR_RETRY_DEADLINE_EXCEEDED',
      message: 'POST http://api.test/charges: the deadline of 30000 ms passed',
    });
  });

  it('hands back a final response and waits the jittered backoff after a retryable one', () => {
    const created = response(201);
    expect(nextStep(created, state())).toEqual({
      kind: 'done',
      response: (created as { response: Response }).response,
    });
    expect(nextStep(response(503), state({ attempt: 2 }))).toEqual({
      kind: 'wait',
      delayMs: 100, // 0.5 × min(10 000, 100 · 2)
      reason: 'status_503',
    });
  });

  it('says why it gives up, with the last response or cause', () => {
    const gaveUp = (event: LoopEvent, overrides: Partial<LoopState>) => {
      const step = nextStep(event, state(overrides));
      if (step.kind !== 'give-up') throw new Error(`expected a give-up, got ${step.kind}`);
      return step;
    };
    expect(gaveUp(response(503), { attempt: 3 })).toMatchObject({
      code: 'ERR_RETRY_ATTEMPTS_EXHAUSTED',
      message: 'POST http://api.test/charges: all 3 attempts failed, the last with HTTP 503',
    });
    expect(
      gaveUp(lost, { request: { method: 'POST', url: 'http://api.test/charges', keyed: false } }),
    ).toMatchObject({ code: 'ERR_RETRY_NOT_SAFE', cause: (lost as { cause: unknown }).cause });
    expect(gaveUp(response(503, { 'retry-after': '120' }), {})).toMatchObject({
      code: 'ERR_RETRY_DEADLINE_EXCEEDED',
      message: expect.stringMatching(/server asked to wait 120000 ms .*past the deadline \(30000 ms left\)/),
    });
    expect(gaveUp(response(503), { now: NOW + 29_990 }).message).toMatch(
      /the next backoff of 50 ms would pass the deadline \(10 ms left\)/,
    );
    expect(gaveUp(response(503), { budget: { allowsRetry: false, ratio: 0.1 } })).toMatchObject({
      code: 'ERR_RETRY_BUDGET_EXHAUSTED',
      message: expect.stringContaining('capped at 10 % of requests'),
    });
    expect(gaveUp({ kind: 'circuit-open' }, {}).message).toContain('the circuit for http://api.test is open');
    const reason = new Error('user went away');
    expect(gaveUp({ kind: 'aborted', cause: reason, during: 'backoff' }, {})).toMatchObject({
      code: 'ERR_RETRY_ABORTED',
      message: 'POST http://api.test/charges: aborted by the caller during a backoff',
      cause: reason,
    });
  });
});

const events: fc.Arbitrary<LoopEvent> = fc.oneof(
  fc.constant<LoopEvent>({ kind: 'due' }),
  fc
    .record({
      status: fc.constantFrom(200, 201, 400, 408, 409, 422, 429, 500, 502, 503, 504),
      wait: fc.option(fc.nat(200)),
    })
    .map(({ status, wait }) => response(status, wait === null ? {} : { 'retry-after': String(wait) })),
  fc
    .record({
      code: fc.constantFrom('UND_ERR_SOCKET', 'ECONNREFUSED', 'ERR_RETRY_ATTEMPT_TIMEOUT'),
      sent: fc.boolean(),
    })
    .map(({ code, sent }): LoopEvent => ({ kind: 'failure', cause: new Error(code), code, sent })),
);

const states: fc.Arbitrary<LoopState> = fc
  .record({
    maxAttempts: fc.integer({ min: 1, max: 10 }),
    attempt: fc.integer({ min: 1, max: 12 }),
    baseDelayMs: fc.integer({ min: 1, max: 5_000 }),
    maxDelayMs: fc.integer({ min: 1, max: 60_000 }),
    attemptTimeoutMs: fc.integer({ min: 1, max: 60_000 }),
    random: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
    method: fc.constantFrom('GET', 'PUT', 'POST', 'PATCH'),
    keyed: fc.boolean(),
    elapsedMs: fc.nat(120_000),
    deadlineMs: fc.integer({ min: 1, max: 120_000 }),
    budget: fc.option(fc.boolean()),
  })
  .map((s) =>
    state({
      settings: { ...s, random: () => s.random },
      request: { method: s.method, url: 'http://api.test/x', keyed: s.keyed },
      attempt: s.attempt,
      now: NOW + s.elapsedMs,
      deadlineAt: NOW + s.deadlineMs,
      deadlineMs: s.deadlineMs,
      budget: s.budget === null ? undefined : { allowsRetry: s.budget, ratio: 0.1 },
    }),
  );

describe('the retry loop (properties)', () => {
  it('never waits or sends past the deadline', () => {
    fc.assert(
      fc.property(events, states, (event, s) => {
        const step = nextStep(event, s);
        if (step.kind === 'wait') expect(step.delayMs).toBeLessThan(s.deadlineAt - s.now);
        if (step.kind === 'send') {
          expect(step.timeoutMs).toBeGreaterThan(0);
          expect(step.timeoutMs).toBeLessThanOrEqual(
            Math.min(s.deadlineAt - s.now, s.settings.attemptTimeoutMs),
          );
        }
      }),
    );
  });

  it('never retries past maxAttempts, nor against a spent budget', () => {
    fc.assert(
      fc.property(events, states, (event, s) => {
        if (nextStep(event, s).kind !== 'wait') return;
        expect(s.attempt).toBeLessThan(s.settings.maxAttempts);
        expect(s.budget?.allowsRetry ?? true).toBe(true);
      }),
    );
  });

  it('never repeats an unkeyed, non-idempotent request the server may have processed', () => {
    fc.assert(
      fc.property(events, states, (event, s) => {
        const unsafe = !s.request.keyed && (s.request.method === 'POST' || s.request.method === 'PATCH');
        const mayHaveRun = (event.kind === 'failure' && event.sent) || event.kind === 'response';
        if (unsafe && mayHaveRun && nextStep(event, s).kind === 'wait') {
          // Only statuses that say the server did no work (408, 429) may be repeated.
          expect(event.kind === 'response' && [408, 429].includes(event.response.status)).toBe(true);
        }
      }),
    );
  });
});
