/** The body parser's refusals, as properties: what JSON.parse would silently accept. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { exact, parseStrictJson } from '../src/strict-json.ts';

const forbidden = new Set(['__proto__', 'constructor', 'prototype']);
function hasForbiddenName(value: unknown): boolean {
  if (value === null || typeof value !== 'object') return false;
  return Object.entries(value).some(
    ([name, member]) => (!Array.isArray(value) && forbidden.has(name)) || hasForbiddenName(member),
  );
}

describe('parseStrictJson', () => {
  it('accepts every JSON document without repeated names, NUL or lone surrogates, as JSON.parse reads it', () => {
    fc.assert(
      fc.property(
        fc.jsonValue().filter((value) => !hasForbiddenName(value)),
        (value) => {
          const text = JSON.stringify(value, null, Math.random() < 0.5 ? 0 : 2);
          expect(parseStrictJson(text)).toEqual({ ok: true, value: JSON.parse(text) });
        },
      ),
    );
  });

  it('refuses an object that names a member twice, at any depth, whatever the spacing', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), {
          minKeys: 1,
        }),
        fc.nat(),
        fc.nat({ max: 3 }),
        fc.constantFrom('', ' ', '\n  '),
        (object, pick, depth, space) => {
          const names = Object.keys(object);
          const name = names[pick % names.length]!;
          let text = `{${space}${JSON.stringify(name)}${space}:${space}null${space},${JSON.stringify(object).slice(1)}`;
          for (let i = 0; i < depth; i++) text = i % 2 ? `{"wrap": ${text}}` : `[1, ${text}]`;
          const parsed = parseStrictJson(text);
          expect(parsed.ok).toBe(false);
          if (!parsed.ok) expect(parsed.reason).toContain(`"${name}"`);
        },
      ),
    );
  });

  it('does not mistake equal names in sibling objects or in arrays for duplicates', () => {
    expect(parseStrictJson('[{"a":1},{"a":2}]').ok).toBe(true);
    expect(parseStrictJson('{"a":{"a":{"a":1}},"b":["a","a"]}').ok).toBe(true);
    expect(parseStrictJson('{"a":"\\"a\\":1,","b":1}').ok).toBe(true);
    expect(parseStrictJson('{"a\\u0062":1,"ab":2}')).toMatchObject({
      ok: false,
      reason: expect.stringContaining('"ab"'),
    });
  });

  it('refuses NUL and lone surrogates in any string or name, escaped or raw; keeps real pairs', () => {
    const bad = fc.constantFrom('\\u0000', '\u0000', '\\ud800', '\\udfff', '\\udc00\\ud800');
    fc.assert(
      fc.property(fc.string({ maxLength: 5 }), bad, fc.boolean(), (around, poison, asName) => {
        const inner = JSON.stringify(around).slice(1, -1);
        const text = asName ? `{"${inner}${poison}": 1}` : `{"k": ["${inner}${poison}"]}`;
        expect(parseStrictJson(text).ok).toBe(false);
      }),
    );
    expect(parseStrictJson('"\\ud83d\\ude00"')).toEqual({ ok: true, value: '😀' });
  });

  it('refuses nesting deeper than 32 levels without overflowing the stack, and accepts 32', () => {
    expect(parseStrictJson(`${'['.repeat(32)}${']'.repeat(32)}`).ok).toBe(true);
    expect(parseStrictJson(`${'['.repeat(33)}${']'.repeat(33)}`)).toMatchObject({
      ok: false,
      reason: expect.stringContaining('deeper'),
    });
    expect(parseStrictJson(`${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}`).ok).toBe(false);
    expect(parseStrictJson(`${'['.repeat(1_000_000)}${']'.repeat(1_000_000)}`).ok).toBe(false);
  });

  it('refuses prototype names and what is not JSON', () => {
    for (const text of [
      '{"__proto__":{"admin":true}}',
      '{"a":[{"constructor":1}]}',
      '{"a":',
      "{'a':1}",
      '1e400x',
    ]) {
      expect(parseStrictJson(text).ok).toBe(false);
    }
  });

  it('refuses a number JSON.parse would change, and accepts every number it reads back as sent', () => {
    expect(parseStrictJson('{"stars": 1.0000000000000000001}')).toEqual({
      ok: false,
      reason:
        'The number 1.0000000000000000001 cannot be kept exactly (it would be read as 1): send at most 15 significant digits.',
    });
    for (const literal of [
      '12345678901234567890',
      '5.0000000000000001',
      '9007199254740993',
      '1e400',
      '-1e-400',
    ])
      expect(parseStrictJson(`[${literal}]`).ok, literal).toBe(false);
    for (const literal of [
      '1.0',
      '1e2',
      '1E+2',
      '0.1',
      '-0',
      '0.30000000000000004',
      '123.456e-2',
      '100000000000000000000',
    ])
      expect(parseStrictJson(`[${literal}]`).ok, literal).toBe(true);
    // Every double, as JSON writes it, reads back as itself.
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (value) => {
        expect(parseStrictJson(JSON.stringify({ n: value })).ok).toBe(true);
      }),
    );
    // An integer is exact exactly when the double JSON.parse makes of it prints back as the
    // same integer (BigInt arithmetic as the independent judge).
    const printedBack = (integer: bigint): bigint => {
      const [mantissa = '', exponent = '0'] = String(Number(integer)).split('e');
      const [whole = '', fraction = ''] = mantissa.split('.');
      return BigInt(whole + fraction) * 10n ** BigInt(Number(exponent) - fraction.length);
    };
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 30n }), (integer) => {
        expect(exact(integer.toString())).toBe(printedBack(integer) === integer);
      }),
      { examples: [[119209289550781250000000n], [9007199254740993n], [12345678901234567890n]] },
    );
    // Up to 15 significant digits, at any scale a double reaches, always reads back as sent.
    fc.assert(
      fc.property(
        fc.stringMatching(/^[1-9][0-9]{0,14}$/),
        fc.integer({ min: -300, max: 300 }),
        (digits, power) => {
          // Kept within a double's normal range (below 1e300 and above 1e-285).
          expect(exact(`${digits}e${Math.min(power, 300 - digits.length)}`)).toBe(true);
        },
      ),
    );
  });
});
