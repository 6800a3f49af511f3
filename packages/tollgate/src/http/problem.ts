/**
 * RFC 9457 problem details: the one shape every error answer takes, so a client can branch on
 * `type` and read members such as `retry_after` without parsing prose. Every kind of problem
 * (slug, title, status) is declared once, in a catalogue made with {@link defineProblems}:
 * tollgate's own below, an app's beside its routes, both answered by {@link problemAnswer}.
 */

/** The base of every problem `type` tollgate answers; the slug after it is stable. */
const PROBLEM_TYPE_BASE = 'https://tollgate.dev/problems/';

/**
 * One kind of problem: its stable slug (`type`, resolved against `https://tollgate.dev/problems/`
 * when sent), its title and its HTTP status. Spread into a document: `{ ...kind, detail }`.
 */
export interface ProblemKind<Slug extends string = string> {
  readonly type: Slug;
  readonly title: string;
  readonly status: number;
}

/**
 * A catalogue of problem kinds keyed by slug.
 *
 * @example
 * const appProblems = defineProblems({ 'insufficient-funds': { status: 402, title: 'Insufficient Funds' } });
 * problemAnswer(problem(appProblems['insufficient-funds'], 'The wallet holds 3 stars; the vote needs 5.'));
 */
export function defineProblems<
  const T extends Record<string, { readonly title: string; readonly status: number }>,
>(kinds: T): { readonly [Slug in keyof T & string]: ProblemKind<Slug> } {
  const catalogue: Record<string, ProblemKind> = {};
  for (const [slug, kind] of Object.entries(kinds)) catalogue[slug] = { type: slug, ...kind };
  return catalogue as { readonly [Slug in keyof T & string]: ProblemKind<Slug> };
}

/** The problems tollgate's adapters answer. */
export const problems = defineProblems({
  /** An enforcing policy denied the request. Members: `policies`, `retry_after`. */
  'rate-limited': { status: 429, title: 'Too Many Requests' },
  /** The rate-limit store failed and a fail-closed policy denied. Members: `policies`, `retry_after`. */
  'rate-limit-unavailable': { status: 503, title: 'Rate Limit Unavailable' },
  /** The route requires an idempotency key and the request has none. */
  'idempotency-key-missing': { status: 400, title: 'Bad Idempotency Key' },
  /** The idempotency key is not a valid key. */
  'idempotency-key-malformed': { status: 400, title: 'Bad Idempotency Key' },
  /** The key was used with a different request (422, or 409 where the route says so). */
  'idempotency-key-mismatch': { status: 422, title: 'Idempotency Key Reused' },
  /** A request with the same key is still running. Member: `retry_after`. */
  'idempotency-key-in-use': { status: 409, title: 'Request In Progress' },
  /** The idempotency store failed; nothing ran. Member: `retry_after`. */
  'idempotency-unavailable': { status: 503, title: 'Idempotency Store Unavailable' },
  /** The body cannot be fingerprinted (too deep, a number out of range, not JSON). */
  'invalid-body': { status: 400, title: 'Invalid Request Body' },
  /** Node's HTTP parser refused the request (see `connectionOptions` in `tollgate/fastify`). */
  'bad-request': { status: 400, title: 'Bad Request' },
  /** The request did not arrive whole in time. */
  'request-timeout': { status: 408, title: 'Request Timeout' },
  /** The request line and headers are over the size limit. */
  'header-too-large': { status: 431, title: 'Request Header Fields Too Large' },
});

/** A problem document: the RFC 9457 members (`type` as its slug) plus extension members (snake_case). */
export interface Problem {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly [member: string]: unknown;
}

/** The document of one `kind` of problem, with what this occurrence says and carries. */
export function problem(
  kind: ProblemKind,
  detail: string,
  members: Readonly<Record<string, unknown>> & { readonly status?: number } = {},
): Problem {
  return { ...kind, detail, ...members };
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
