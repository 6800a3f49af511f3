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

  it('takes the later of Retry-After and RateLimit', () => {
    const headers = new Headers({ 'retry-after': '2', ratelimit: '"default";r=0;t=4' });
    expect(serverDelay(headers, NOW)).toBe(4_000);
    expect(serverDelay(new Headers(), NOW)).toBeUndefined();
  });

  it('is never earlier than either header (property)', () => {
    fc.assert(
      fc.property(fc.nat(100_000), fc.nat(100_000), (seconds, t) => {
        const headers = new Headers({ 'retry-after': String(seconds), ratelimit: `"p";r=0;t=${t}` });
        const wait = serverDelay(headers, NOW)!;
        expect(wait).toBeGreaterThanOrEqual(seconds * 1000);
        expect(wait).toBeGreaterThanOrEqual(t * 1000);
      }),
    );
  });
});
