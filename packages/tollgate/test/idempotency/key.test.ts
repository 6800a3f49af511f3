import fc from 'fast-check';
import { IdempotencyKeyError, parseIdempotencyKey } from 'tollgate/idempotency';
import { describe, expect, it } from 'vitest';

const keyChar = fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-');
const validKey = fc.string({ unit: keyChar, minLength: 16, maxLength: 255 });

describe('parseIdempotencyKey', () => {
  it('reads a structured-field string and a bare token', () => {
    const uuid = '8e03978e-40d5-43e8-bc93-6894a57f9324';
    expect(parseIdempotencyKey(`"${uuid}"`)).toEqual({ ok: true, key: uuid });
    expect(parseIdempotencyKey(uuid)).toEqual({ ok: true, key: uuid });
    expect(parseIdempotencyKey(`  "${uuid}" `)).toEqual({ ok: true, key: uuid });
    expect(parseIdempotencyKey([uuid])).toEqual({ ok: true, key: uuid });
  });

  it('answers missing with a stable code when there is no key', () => {
    for (const header of [undefined, '', '   ', []]) {
      const parsed = parseIdempotencyKey(header);
      expect(parsed.ok).toBe(false);
      if (!parsed.ok) {
        expect(parsed.error).toBeInstanceOf(IdempotencyKeyError);
        expect(parsed.error.code).toBe('ERR_IDEMPOTENCY_KEY_MISSING');
      }
    }
  });

  it('answers malformed, without echoing the key, for everything else', () => {
    const secret = 'a'.repeat(15);
    for (const header of [
      secret, // too short
      'a'.repeat(256), // too long
      'abcdefghijklmnop!', // a character outside the set
      '"abcdefghijklmnop"; p=1', // parameters
      '"abcdefghijklmnop', // an unterminated string
      '"abcdefghijklmn\\"op"', // a quote inside
      'abcdefghijklmnop, abcdefghijklmnop', // a repeated header joined by a proxy
      ['abcdefghijklmnop', 'abcdefghijklmnop'],
      '"abcdefghijklmnopé"',
      ':YWJjZGVmZ2hpamtsbW5vcA==:', // a byte sequence, not a string
    ]) {
      const parsed = parseIdempotencyKey(header);
      expect(parsed.ok, String(header)).toBe(false);
      if (!parsed.ok) {
        expect(parsed.error.code).toBe('ERR_IDEMPOTENCY_KEY_MALFORMED');
        expect(parsed.error.message).not.toContain(secret);
      }
    }
  });

  it('accepts every valid key, bare or quoted (property)', () => {
    fc.assert(
      fc.property(validKey, fc.boolean(), (key, quoted) => {
        expect(parseIdempotencyKey(quoted ? `"${key}"` : key)).toEqual({ ok: true, key });
      }),
    );
  });

  it('never throws, and accepts exactly the keys of the grammar (property)', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string({ maxLength: 300 }), fc.string({ unit: 'grapheme', maxLength: 40 })),
        (raw) => {
          const parsed = parseIdempotencyKey(raw);
          const bare = raw.trim();
          const expected = /^[A-Za-z0-9_-]{16,255}$/.test(bare) || /^"[A-Za-z0-9_-]{16,255}"$/.test(bare);
          expect(parsed.ok).toBe(expected);
        },
      ),
    );
  });
});
