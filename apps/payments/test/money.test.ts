/**
 * Amounts from the number's text as sent: every spelling of an amount (leading and trailing
 * zeros, exponents) gives its exact minor units, any extra precision or size is refused, and
 * the work is linear in the text — a megabyte of zeros is an answer, not a stalled loop.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ISO_4217_EXPONENTS } from '../src/iso4217.ts';
import { MAX_AMOUNT, toAmount, toMinorUnits } from '../src/money.ts';

const currencies = fc.constantFrom(...ISO_4217_EXPONENTS.keys());

/** `minor` at `exponent` spelled as JSON: shifted by `shift` into an exponent, padded with zeros. */
function spell(minor: bigint, exponent: number, shift: number, leading: number, trailing: number): string {
  // minor × 10^-exponent = (minor × 10^trailing) × 10^(-exponent - trailing)
  const digits = `${'0'.repeat(leading)}${minor}${'0'.repeat(trailing)}`;
  const scale = exponent + trailing + shift; // digits after the point, before the exponent
  const point = digits.length - scale;
  const mantissa =
    scale <= 0
      ? digits + '0'.repeat(-scale)
      : point > 0
        ? `${digits.slice(0, point)}.${digits.slice(point)}`
        : `0.${'0'.repeat(-point)}${digits}`;
  return shift === 0 ? mantissa : `${mantissa}e${shift}`;
}

describe('toMinorUnits', () => {
  it('reads every spelling of an amount as its exact minor units', () => {
    fc.assert(
      fc.property(
        currencies,
        fc.bigInt({ min: 1n, max: 10n ** 12n }),
        fc.integer({ min: -5, max: 5 }),
        fc.nat(4),
        fc.nat(6),
        (currency, raw, shift, leading, trailing) => {
          const exponent = ISO_4217_EXPONENTS.get(currency)!;
          const max = BigInt(MAX_AMOUNT) * 10n ** BigInt(exponent);
          const minor = ((raw - 1n) % max) + 1n;
          const text = spell(minor, exponent, shift, leading, trailing);
          expect(toMinorUnits(text, currency)).toEqual({ ok: true, minor, exponent });
          expect(toAmount(minor, exponent)).toBe(Number(text));
        },
      ),
    );
  });

  it('refuses one digit of precision more than the currency has, and anything past the maximum', () => {
    fc.assert(
      fc.property(currencies, fc.bigInt({ min: 1n, max: 10n ** 9n }), (currency, minor) => {
        const exponent = ISO_4217_EXPONENTS.get(currency)!;
        const finer = spell(minor * 10n + 1n, exponent + 1, 0, 0, 0); // a last digit the currency lacks
        expect(toMinorUnits(finer, currency)).toMatchObject({ ok: false, reason: /decimal places/ });
        const over = spell(BigInt(MAX_AMOUNT) * 10n ** BigInt(exponent) + minor, exponent, 0, 0, 0);
        expect(toMinorUnits(over, currency)).toMatchObject({ ok: false, reason: /at most/ });
      }),
    );
  });

  it('answers amounts a megabyte long at once (1.000…, 0.000…1, 1000…, 1e-999…)', () => {
    const zeros = '0'.repeat(1_048_576);
    expect(toMinorUnits(`1.${zeros}`, 'USD')).toEqual({ ok: true, minor: 100n, exponent: 2 });
    expect(toMinorUnits(`1${zeros}1.5`, 'USD')).toMatchObject({ ok: false, reason: /at most/ });
    expect(toMinorUnits(`0.${zeros}1`, 'USD')).toMatchObject({ ok: false, reason: /decimal places/ });
    expect(toMinorUnits(`1${zeros}`, 'USD')).toMatchObject({ ok: false, reason: /at most/ });
    expect(toMinorUnits(`1${zeros}e-${zeros.length}`, 'USD')).toEqual({ ok: true, minor: 100n, exponent: 2 });
    expect(toMinorUnits(`1e-${'9'.repeat(1000)}`, 'USD')).toMatchObject({
      ok: false,
      reason: /decimal places/,
    });
    expect(toMinorUnits(`${zeros}`, 'USD')).toMatchObject({ ok: false, reason: /greater than 0/ });
  });
});
