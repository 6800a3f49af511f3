import type { Clock } from '../clock.ts';
import { sendAttempt, summarize } from './attempt.ts';
import type { Admission, BreakerStateName } from './breaker/circuit-breaker.ts';
import { type AttemptRecord, RetryError } from './errors.ts';
import { type Host, Hosts } from './hosts.ts';
import { type ClientMetrics, noMetrics, prometheusMetrics } from './metrics.ts';
import { type ResolvedOptions, type RetryOptions, resolveOptions } from './options.ts';
import { hostFailed } from './retry-decision.ts';
import { type LoopEvent, type LoopState, nextStep } from './retry-loop.ts';

/** fetch's `RequestInit`, plus what a logical operation needs. */
export interface RetryRequestInit extends RequestInit {
  /**
   * The key of this logical operation, e.g. one persisted before a crash so that a restarted
   * process resumes the same operation. An `Idempotency-Key` header, if set, wins.
   */
  idempotencyKey?: string;
  /** This call's deadline, instead of the client's `deadlineMs`. */
  deadlineMs?: number;
}

/** A logical operation that got a final response. */
export interface RetryResult {
  readonly response: Response;
  /** The key sent with every attempt, when the request had one. */
  readonly idempotencyKey: string | undefined;
  readonly attempts: readonly AttemptRecord[];
}

/** A retrying HTTP client. Its budget and breaker are per host (origin) and shared by all calls. */
export interface RetryClient {
  /**
   * A drop-in `fetch`: resolves with the final response (a 2xx, or a status that retrying
   * cannot fix, such as 400, 404 or 422) and rejects with a {@link RetryError} when it gives up.
   */
  fetch(input: string | URL | Request, init?: RetryRequestInit): Promise<Response>;
  /** Like {@link RetryClient.fetch}, and also tells the idempotency key and the attempt history. */
  request(input: string | URL | Request, init?: RetryRequestInit): Promise<RetryResult>;
  /** The state of the circuit for the origin of `url`; `undefined` when breakers are off. */
  breakerState(url: string | URL): BreakerStateName | undefined;
}

const UNGUARDED: Admission = { probe: false };

/**
 * Makes a retry client: one idempotency key per logical operation, exponential backoff with
 * full jitter that never undercuts Retry-After or RateLimit, an overall deadline, a retry budget
 * and a circuit breaker per host.
 *
 * @example
 * const client = createRetryClient({ deadlineMs: 10_000 });
 * const { response, idempotencyKey } = await client.request('https://api.example.com/charges', {
 *   method: 'POST',
 *   body: JSON.stringify({ amount: 10, currency: 'USD' }),
 * });
 */
export function createRetryClient(options: RetryOptions = {}): RetryClient {
  const resolved = resolveOptions(options);
  const metrics = resolved.metrics ? prometheusMetrics(resolved.metrics) : noMetrics;
  const hosts = new Hosts(resolved, metrics);
  const request = (input: string | URL | Request, init: RetryRequestInit = {}) =>
    run(resolved, hosts, metrics, input, init);
  return {
    request,
    fetch: async (input, init) => (await request(input, init)).response,
    breakerState: (url) => hosts.get(new URL(url).origin).breaker?.state.name,
  };
}

/**
 * One logical operation: the I/O around {@link nextStep}, which decides every step. Reads the
 * clock and the signal, sends attempts, waits, and keeps the history, the budget, the breaker
 * and the metrics.
 */
async function run(
  options: ResolvedOptions,
  hosts: Hosts,
  metrics: ClientMetrics,
  input: string | URL | Request,
  init: RetryRequestInit,
): Promise<RetryResult> {
  const { idempotencyKey, deadlineMs = options.deadlineMs, signal: initSignal, ...requestInit } = init;
  const signal = initSignal ?? (input instanceof Request ? input.signal : undefined) ?? undefined;
  // One Request, cloned per attempt: the body is replayed byte for byte.
  const request = new Request(input, { ...requestInit, signal: null });
  const method = request.method;
  const key =
    request.headers.get('idempotency-key') ??
    idempotencyKey ??
    (options.keyedMethods.includes(method) ? options.generateKey() : undefined);
  if (key !== undefined) request.headers.set('idempotency-key', key);

  const { clock } = options;
  const host = hosts.get(new URL(request.url).origin);
  const attempts: AttemptRecord[] = [];
  const traits = { method, url: request.url, keyed: key !== undefined };
  const deadlineAt = clock.now() + deadlineMs;
  const state = (attempt: number, now: number): LoopState => ({
    settings: options,
    request: traits,
    origin: host.origin,
    attempt,
    now,
    deadlineAt,
    deadlineMs,
    budget: host.budget && { allowsRetry: host.budget.allowsRetry(), ratio: host.budget.ratio },
  });
  const due = (): LoopEvent =>
    signal?.aborted ? { kind: 'aborted', cause: signal.reason } : { kind: 'due' };

  host.budget?.recordRequest();
  let attempt = 1;
  let event = due();
  for (;;) {
    const step = nextStep(event, state(attempt, clock.now()));
    switch (step.kind) {
      case 'done':
        return { response: step.response, idempotencyKey: key, attempts };
      case 'give-up': {
        const { code, message, response, cause } = step;
        const details = { attempts: [...attempts], idempotencyKey: key, response, cause };
        const error = new RetryError(code, message, details);
        metrics.giveUp(host.origin, code);
        options.onGiveUp?.(error);
        throw error;
      }
      case 'send': {
        const admission = host.breaker ? host.breaker.admit() : UNGUARDED;
        event = admission
          ? await send(
              options,
              host,
              metrics,
              { request, attempt, timeoutMs: step.timeoutMs, signal, admission },
              attempts,
            )
          : { kind: 'circuit-open' };
        break;
      }
      case 'wait': {
        host.budget?.recordRetry();
        const { delayMs, reason } = step;
        attempts[attempts.length - 1] = { ...attempts[attempts.length - 1]!, delayMs };
        metrics.retry(host.origin, reason, delayMs);
        options.onRetry?.({ url: request.url, method, attempt, reason, delayMs, idempotencyKey: key });
        // Free the connection of a response we will not read.
        if (event.kind === 'response') await event.response.body?.cancel().catch(() => {});
        const slept = await wait(clock, delayMs, signal);
        attempt += 1;
        event = slept ? due() : { kind: 'aborted', cause: signal?.reason, during: 'backoff' };
        break;
      }
    }
  }
}

/** Sends one attempt, tells the breaker and the metrics, and records it in `attempts`. */
async function send(
  options: ResolvedOptions,
  host: Host,
  metrics: ClientMetrics,
  attempt: {
    readonly request: Request;
    readonly attempt: number;
    readonly timeoutMs: number;
    readonly signal: AbortSignal | undefined;
    readonly admission: Admission;
  },
  attempts: AttemptRecord[],
): Promise<LoopEvent> {
  const { clock } = options;
  const startedAt = clock.now();
  const outcome = await sendAttempt(options.fetch, attempt.request, attempt.timeoutMs, attempt.signal);
  if (outcome.kind === 'aborted') {
    host.breaker?.release(attempt.admission);
    return outcome;
  }
  if (hostFailed(outcome)) host.breaker?.failure(attempt.admission);
  else host.breaker?.success(attempt.admission);
  const result = summarize(outcome);
  metrics.attempt(
    host.origin,
    attempt.request.method,
    result.kind === 'response' ? String(result.status) : result.code,
  );
  attempts.push({ attempt: attempt.attempt, startedAt, endedAt: clock.now(), result });
  return outcome;
}

/**
 * Sleeps `ms` unless `signal` fires first; `false` when it did. The race is ours, not the sleep
 * function's, so an injected sleep that ignores its signal still cannot delay an abort.
 */
async function wait(clock: Clock, ms: number, signal: AbortSignal | undefined): Promise<boolean> {
  if (!signal) {
    await clock.sleep(ms);
    return true;
  }
  if (signal.aborted) return false;
  let onAbort = () => {};
  const aborted = new Promise<false>((resolve) => {
    onAbort = () => resolve(false);
    signal.addEventListener('abort', onAbort, { once: true });
  });
  const slept = clock.sleep(ms, signal).then(
    () => true,
    (error: unknown) => {
      if (signal.aborted) return false;
      throw error;
    },
  );
  try {
    return await Promise.race([slept, aborted]);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}
