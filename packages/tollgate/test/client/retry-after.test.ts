import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { rateLimitReset, retryAfter, serverDelay } from '../../src/client/retry-after.ts';

const NOW = Date.UTC(2025, 0, 1, 12, 0, 0);

describe('Retry-After', () => {
  it('reads delay-seconds', () => {
    expect(retryAfter('120', NOW)).toBe(120_000);
    expect(retryAfter(' 0 ', NOW)).toBe(0);
  });

  it('reads an HTTP-date relative to the injected clock, and a past date as no wait', () => {
    expect(retryAfter(new Date(NOW + 5_000).toUTCString(), NOW)).toBe(5_000);
    expect(retryAfter(new Date(NOW - 5_000).toUTCString(), NOW)).toBe(0);
  });

  it('ignores what it cannot read', () => {
    expect(retryAfter(null, NOW)).toBeUndefined();
    expect(retryAfter('soon', NOW)).toBeUndefined();
    expect(retryAfter('-3', NOW)).toBeUndefined();
  });
});

describe('RateLimit (draft-10)', () => {
  it('waits for the longest reset among exhausted policies', () => {
    expect(rateLimitReset('"burst";r=0;t=3, "daily";r=0;t=7')).toBe(7_000);
    expect(rateLimitReset('"burst";r=0;t=3, "daily";r=990;t=40000')).toBe(3_000);
  });

  it('asks for nothing when quota is left, and ignores a malformed field', () => {
    expect(rateLimitReset('"default";r=5;t=30')).toBeUndefined();
    expect(rateLimitReset('"default";r=0')).toBeUndefined();
    expect(rateLimitReset('limit=10, remaining=0, reset=5 ;;')).toBeUndefined();
    expect(rateLimitReset(null)).toBeUndefined();
  });

  it('takes Retry-After when the response has one, else the RateLimit reset', () => {
    // A sliding window refused with Retry-After 7 while its full reset (t) is 103 s away: the
    // retry fits in 7 s (a client that waited for t gave up on its 30 s deadline).
    const refused = new Headers({ 'retry-after': '7', ratelimit: '"payments";r=0;t=103, "burst";r=40;t=1' });
    expect(serverDelay(refused, NOW)).toBe(7_000);
    expect(serverDelay(new Headers({ ratelimit: '"default";r=0;t=4' }), NOW)).toBe(4_000);
    expect(serverDelay(new Headers({ 'retry-after': 'soon', ratelimit: '"default";r=0;t=4' }), NOW)).toBe(
      4_000,
    );
    expect(serverDelay(new Headers(), NOW)).toBeUndefined();
  });

  it('is never earlier than Retry-After, nor than an exhausted policy reset when Retry-After is absent (property)', () => {
    fc.assert(
      fc.property(fc.option(fc.nat(100_000), { nil: undefined }), fc.nat(100_000), (seconds, t) => {
        const headers = new Headers({ ratelimit: `"p";r=0;t=${t}` });
        if (seconds !== undefined) headers.set('retry-after', String(seconds));
        const wait = serverDelay(headers, NOW)!;
        expect(wait).toBe(seconds === undefined ? t * 1000 : seconds * 1000);
      }),
    );
  });
});
