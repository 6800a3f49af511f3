import { serializeItem } from 'structured-headers';
import type { PolicyResult, RateLimitResult } from './limiter.ts';

/** Which headers {@link rateLimitHeaders} writes. */
export interface HeaderOptions {
  /**
   * IETF draft-ietf-httpapi-ratelimit-headers-10 `RateLimit-Policy` and `RateLimit`.
   * @default true
   */
  draft?: boolean;
  /**
   * `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset`, for the most
   * restrictive enforcing policy. `X-RateLimit-Reset` is a delta in seconds (like the
   * draft's `t`), not an epoch timestamp, so it needs no clock agreement with the client.
   * @default true
   */
  legacy?: boolean;
}

/**
 * The response headers for a decision: one structured-field list item per policy, named
 * after it, and `Retry-After` (whole seconds) when the request is rejected.
 *
 * @example
 * rateLimitHeaders(result)
 * // { 'RateLimit-Policy': '"per-user";q=100;w=60', 'RateLimit': '"per-user";r=99;t=60',
 * //   'X-RateLimit-Limit': '100', 'X-RateLimit-Remaining': '99', 'X-RateLimit-Reset': '60' }
 */
export function rateLimitHeaders(
  result: RateLimitResult,
  options: HeaderOptions = {},
): Record<string, string> {
  const headers: Record<string, string> = {};
  // When the store could not be asked, the counters are unknown: say nothing rather than guess.
  const policies = result.reason === 'store-unavailable' ? [] : result.policies;
  if (policies.length > 0 && options.draft !== false) {
    headers['RateLimit-Policy'] = policies.map(policyItem).join(', ');
    headers.RateLimit = policies.map(stateItem).join(', ');
  }
  const tightest = mostRestrictive(policies);
  if (tightest && options.legacy !== false) {
    headers['X-RateLimit-Limit'] = String(tightest.limit);
    headers['X-RateLimit-Remaining'] = String(tightest.remaining);
    headers['X-RateLimit-Reset'] = String(tightest.resetSeconds);
  }
  if (!result.allowed) headers['Retry-After'] = String(result.retryAfterSeconds);
  return headers;
}

/**
 * List members are structured-field strings with integer parameters. Policy names are
 * checked by `definePolicy` to be `[A-Za-z0-9_.-]`, which a quoted string holds as is, so a
 * template writes exactly what the serializer would, several times faster (this runs on
 * every response); any other name goes through `structured-headers`.
 */
const plainName = /^[A-Za-z0-9_.-]+$/;

function policyItem({ name, limit, windowSeconds }: PolicyResult): string {
  return listItem(name, 'q', limit, 'w', Math.max(1, Math.ceil(windowSeconds)));
}

function stateItem({ name, remaining, resetSeconds }: PolicyResult): string {
  return listItem(name, 'r', remaining, 't', resetSeconds);
}

/** `"name";a=1;b=2`: a string item with two integer parameters. */
function listItem(name: string, a: string, aValue: number, b: string, bValue: number): string {
  if (plainName.test(name)) return `"${name}";${a}=${aValue};${b}=${bValue}`;
  return serializeItem([
    name,
    new Map([
      [a, aValue],
      [b, bValue],
    ]),
  ]);
}

/** The enforcing policy with the fewest units left (the longest wait on ties). */
function mostRestrictive(policies: readonly PolicyResult[]): PolicyResult | undefined {
  let tightest: PolicyResult | undefined;
  for (const policy of policies) {
    if (policy.shadow) continue;
    if (
      !tightest ||
      policy.remaining < tightest.remaining ||
      (policy.remaining === tightest.remaining && policy.resetSeconds > tightest.resetSeconds)
    ) {
      tightest = policy;
    }
  }
  return tightest;
}
