import { parseList } from 'structured-headers';

/**
 * How long the server asked the client to wait, in ms: `Retry-After` (delay-seconds or an
 * HTTP-date, RFC 9110 §10.2.3) when the response has one — it says when a retry can succeed —
 * else the draft-10 `RateLimit` field (the `t` of every exhausted policy: when its quota is
 * whole again, which for a sliding window or a token bucket can be long after the next request
 * fits, so it must not outvote `Retry-After`); `undefined` when the response says nothing usable.
 */
export function serverDelay(headers: Headers, now: number): number | undefined {
  return retryAfter(headers.get('retry-after'), now) ?? rateLimitReset(headers.get('ratelimit'));
}

/** `Retry-After: 120` → 120 000; `Retry-After: <HTTP-date>` → ms from `now` (0 if past). */
export function retryAfter(value: string | null, now: number): number | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  // Every HTTP-date form starts with a day name; Date.parse alone would read "-3" as a year.
  if (!/^(mon|tue|wed|thu|fri|sat|sun)/i.test(trimmed)) return undefined;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * `RateLimit: "burst";r=0;t=3, "daily";r=990;t=40000` → 3000: the longest reset among the
 * policies with no quota left (`r` ≤ 0). A policy with quota left does not block a retry.
 * A malformed field is ignored, like an absent one: it is the server's hint, not a contract.
 */
export function rateLimitReset(value: string | null): number | undefined {
  if (value === null) return undefined;
  let items: ReturnType<typeof parseList>;
  try {
    items = parseList(value);
  } catch {
    return undefined;
  }
  let wait: number | undefined;
  for (const [, params] of items) {
    const remaining = params.get('r');
    const reset = params.get('t');
    if (typeof remaining !== 'number' || remaining > 0) continue;
    if (typeof reset !== 'number' || reset < 0) continue;
    wait = Math.max(wait ?? 0, reset * 1000);
  }
  return wait;
}
