/**
 * RFC 9457 problem details: the one shape every error answer of the adapters takes, so a
 * client can branch on `type` and read members such as `retry_after` without parsing prose.
 */

/** The base of every problem `type` tollgate answers; the slug after it is stable. */
export const PROBLEM_TYPE_BASE = 'https://tollgate.dev/problems/';

/** The problem types the adapters answer, by slug. */
export const ProblemType = {
  /** 429: an enforcing policy denied the request. Members: `policies`, `retry_after`. */
  RateLimited: 'rate-limited',
  /** 503: the rate-limit store failed and a fail-closed policy denied. Members: `policies`, `retry_after`. */
  RateLimitUnavailable: 'rate-limit-unavailable',
  /** 400: the route requires an idempotency key and the request has none. */
  KeyMissing: 'idempotency-key-missing',
  /** 400: the idempotency key is not a valid key. */
  KeyMalformed: 'idempotency-key-malformed',
  /** 422 (or 409 by route): the key was used with a different request. */
  KeyMismatch: 'idempotency-key-mismatch',
  /** 409: a request with the same key is still running. Member: `retry_after`. */
  KeyInUse: 'idempotency-key-in-use',
  /** 503: the idempotency store failed; nothing ran. Member: `retry_after`. */
  IdempotencyUnavailable: 'idempotency-unavailable',
} as const;
export type ProblemType = (typeof ProblemType)[keyof typeof ProblemType];

/** A problem document: the RFC 9457 members plus extension members (snake_case). */
export interface Problem {
  readonly type: ProblemType;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly [member: string]: unknown;
}

/** A complete answer for an adapter to send as it is. */
export interface HttpAnswer {
  readonly status: number;
  /** Header names as they should be sent; values already serialised. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string | Uint8Array;
}

/** The answer carrying `problem` as `application/problem+json`, with `headers` beside it. */
export function problemAnswer(problem: Problem, headers: Readonly<Record<string, string>> = {}): HttpAnswer {
  const document = { ...problem, type: PROBLEM_TYPE_BASE + problem.type };
  return {
    status: problem.status,
    headers: { ...headers, 'content-type': 'application/problem+json' },
    body: JSON.stringify(document),
  };
}
