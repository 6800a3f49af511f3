/**
 * What a protected route answers instead of running its handler — a replay, a conflict, a
 * mismatch, a refusal — as complete HTTP answers; the route gate decides which, these say how.
 */
import type { ReplayedResponse } from '../idempotency/replay.ts';
import type { RateLimitResult } from '../ratelimit/limiter.ts';
import { type HttpAnswer, problem, problemAnswer, problems } from './problem.ts';

type Headers = Readonly<Record<string, string>>;

/** The stored response with `headers` (the rate limits) beside its own. */
export function replayAnswer(response: ReplayedResponse, headers: Headers): HttpAnswer {
  const merged: Record<string, string> = { ...headers };
  for (const [name, value] of response.headers) {
    merged[name] = merged[name] === undefined ? value : `${merged[name]}, ${value}`;
  }
  // The body was over the route's maxResponseBytes: an empty body must not pass for the answer.
  if (response.bodyOmitted) merged['idempotent-replayed-body'] = 'omitted';
  return { status: response.status, headers: merged, body: response.body };
}

/** 409: another request holds the key; retry after `retryAfterSeconds`. */
export function inFlightAnswer(retryAfterSeconds: number, headers: Headers): HttpAnswer {
  const document = problem(
    problems['idempotency-key-in-use'],
    `A request with this idempotency key is still running. Retry after ${retryAfterSeconds} s.`,
    { retry_after: retryAfterSeconds },
  );
  return problemAnswer(document, { ...headers, 'retry-after': String(retryAfterSeconds) });
}

/** 422 (or the route's 409): the key was used with a different request. */
export function mismatchAnswer(status: 422 | 409, headers: Headers): HttpAnswer {
  const document = problem(
    problems['idempotency-key-mismatch'],
    'This idempotency key was already used with a different request. Use a new key for a new request.',
    { status },
  );
  return problemAnswer(document, headers);
}

/** The enforcing policies `result` refused on. */
export function refusingPolicies(result: RateLimitResult): string[] {
  return result.policies.filter((policy) => !policy.allowed && !policy.shadow).map((policy) => policy.name);
}

/** 429 naming the policies that refused (503 when the store could not be asked and they fail closed). */
export function limitedAnswer(result: RateLimitResult, headers: Headers): HttpAnswer {
  const policies = refusingPolicies(result);
  const unavailable = result.reason === 'store-unavailable';
  const names = policies.map((name) => `"${name}"`).join(', ');
  const wait = result.retryAfterSeconds;
  const kind = unavailable ? problems['rate-limit-unavailable'] : problems['rate-limited'];
  const detail = unavailable
    ? `The rate-limit store could not be reached and ${names} admit nothing without it. Retry after ${wait} s.`
    : `Rate limit exceeded: ${names}. Retry after ${wait} s.`;
  return problemAnswer(problem(kind, detail, { policies, retry_after: wait }), headers);
}
