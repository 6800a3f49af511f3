import { type AttemptOutcome, sendAttempt } from './attempt.ts';
import { retryDelay } from './backoff.ts';
import type { Admission, BreakerStateName } from './breaker/breaker.ts';
import { type AttemptRecord, type AttemptResult, RetryError, type RetryErrorCode } from './errors.ts';
import { Hosts } from './hosts.ts';
import { type ClientMetrics, noMetrics, prometheusMetrics } from './metrics.ts';
import { type ResolvedOptions, type RetryOptions, resolveOptions } from './options.ts';
import { decide, hostFailed } from './policy/decide.ts';
import { serverDelay } from './retry-after.ts';

/** fetch's `RequestInit`, plus what a logical operation needs. */
export interface RetryRequestInit extends RequestInit {
  /**
   * The key of this logical operation, e.g. one persisted before a crash so that a restarted
   * process resumes the same operation. An `Idempotency-Key` header, if set, wins.
   */
  idempotencyKey?: string;
  /** This call's deadline in ms, instead of the client's. */
  deadline?: number;
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
 * const client = createRetryClient({ deadline: 10_000 });
 * const { response, idempotencyKey } = await client.request('http://127.0.0.1:8000/api/v1/payments', {
 *   method: 'POST',
 *   body: JSON.stringify({ amount: 10, currency: 'USD', payment_method: 'card' }),
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

async function run(
  options: ResolvedOptions,
  hosts: Hosts,
  metrics: ClientMetrics,
  input: string | URL | Request,
  init: RetryRequestInit,
): Promise<RetryResult> {
  const { idempotencyKey, deadline = options.deadline, signal: initSignal, ...requestInit } = init;
  const signal = initSignal ?? (input instanceof Request ? input.signal : undefined) ?? undefined;
  // One Request, cloned per attempt: the body is replayed byte for byte.
  const request = new Request(input, { ...requestInit, signal: null });
  const method = request.method;
  const key =
    request.headers.get('idempotency-key') ??
    idempotencyKey ??
    (options.keyedMethods.includes(method) ? options.generateKey() : undefined);
  if (key !== undefined) request.headers.set('idempotency-key', key);

  const { now } = options;
  const host = hosts.get(new URL(request.url).origin);
  const attempts: AttemptRecord[] = [];
  const deadlineAt = now() + deadline;
  const fail = (code: RetryErrorCode, why: string, last: { response?: Response; cause?: unknown } = {}) => {
    const error = new RetryError(code, `${method} ${request.url}: ${why}`, {
      attempts: [...attempts],
      idempotencyKey: key,
      ...last,
    });
    metrics.giveUp(host.origin, code);
    options.onGiveUp?.(error);
    return error;
  };

  host.budget?.recordRequest();
  for (let attempt = 1; ; attempt++) {
    if (signal?.aborted) throw fail('RETRY_ABORTED', 'aborted by the caller', { cause: signal.reason });
    const remaining = deadlineAt - now();
    if (remaining <= 0) throw fail('RETRY_DEADLINE_EXCEEDED', `the deadline of ${deadline} ms passed`);
    const admission = host.breaker ? host.breaker.admit() : UNGUARDED;
    if (!admission) {
      throw fail(
        'RETRY_CIRCUIT_OPEN',
        `the circuit for ${host.origin} is open, failing fast without sending`,
      );
    }

    const startedAt = now();
    const outcome = await sendAttempt(
      options.fetch,
      request,
      Math.min(options.attemptTimeout, remaining),
      signal,
    );
    if (outcome.kind === 'aborted') {
      host.breaker?.release(admission);
      throw fail('RETRY_ABORTED', 'aborted by the caller', { cause: outcome.cause });
    }
    if (hostFailed(outcome)) host.breaker?.failure(admission);
    else host.breaker?.success(admission);

    const result = summarize(outcome);
    metrics.attempt(host.origin, method, result.kind === 'response' ? String(result.status) : result.code);
    attempts.push({ attempt, startedAt, endedAt: now(), result });

    const decision = decide(outcome, { method, keyed: key !== undefined });
    const last = outcome.kind === 'response' ? { response: outcome.response } : { cause: outcome.cause };
    if (decision.kind === 'final' && outcome.kind === 'response') {
      return { response: outcome.response, idempotencyKey: key, attempts };
    }
    if (decision.kind !== 'retry') {
      throw fail(
        'RETRY_NOT_SAFE',
        `${describe(result)} after the request may have been processed, and without an idempotency ` +
          'key repeating it could repeat its effect',
        last,
      );
    }
    if (attempt >= options.maxAttempts) {
      throw fail(
        'RETRY_ATTEMPTS_EXHAUSTED',
        `all ${attempt} attempts failed, the last with ${describe(result)}`,
        last,
      );
    }

    const asked = outcome.kind === 'response' ? serverDelay(outcome.response.headers, now()) : undefined;
    const delay = retryDelay(attempt, options, options.random, asked);
    const left = deadlineAt - now();
    if (delay >= left) {
      const why =
        left <= 0
          ? `the deadline of ${deadline} ms passed, the last attempt ending with ${describe(result)}`
          : asked !== undefined && asked >= delay
            ? `the server asked to wait ${asked} ms (Retry-After / RateLimit), past the deadline (${Math.max(0, left)} ms left)`
            : `the next backoff of ${Math.round(delay)} ms would pass the deadline (${Math.max(0, left)} ms left)`;
      throw fail('RETRY_DEADLINE_EXCEEDED', why, last);
    }
    if (host.budget && !host.budget.tryRetry()) {
      throw fail(
        'RETRY_BUDGET_EXHAUSTED',
        `${describe(result)}, and the retry budget for ${host.origin} is spent (retries are capped at ` +
          `${host.budget.ratio * 100} % of requests) so this client does not amplify the outage`,
        last,
      );
    }

    attempts[attempts.length - 1] = { ...attempts[attempts.length - 1]!, delay };
    metrics.retry(host.origin, decision.reason, delay);
    options.onRetry?.({
      url: request.url,
      method,
      attempt,
      reason: decision.reason,
      delay,
      idempotencyKey: key,
    });
    // Free the connection of a response we will not read.
    if (outcome.kind === 'response') await outcome.response.body?.cancel().catch(() => {});
    if (!(await wait(options.sleep, delay, signal))) {
      throw fail('RETRY_ABORTED', 'aborted by the caller during a backoff', { cause: signal?.reason });
    }
  }
}

function summarize(outcome: Exclude<AttemptOutcome, { kind: 'aborted' }>): AttemptResult {
  return outcome.kind === 'response'
    ? { kind: 'response', status: outcome.response.status }
    : { kind: 'error', code: outcome.code, sent: outcome.sent };
}

function describe(result: AttemptResult): string {
  return result.kind === 'response' ? `HTTP ${result.status}` : `${result.code}`;
}

/**
 * Sleeps `ms` unless `signal` fires first; `false` when it did. The race is ours, not the sleep
 * function's, so an injected sleep that ignores its signal still cannot delay an abort.
 */
async function wait(
  sleep: ResolvedOptions['sleep'],
  ms: number,
  signal: AbortSignal | undefined,
): Promise<boolean> {
  if (!signal) {
    await sleep(ms);
    return true;
  }
  if (signal.aborted) return false;
  let onAbort = () => {};
  const aborted = new Promise<false>((resolve) => {
    onAbort = () => resolve(false);
    signal.addEventListener('abort', onAbort, { once: true });
  });
  const slept = sleep(ms, signal).then(
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
