/**
 * Money as the API speaks it (a JSON number in major units, e.g. `99.99`) and as it is stored
 * (a bigint of minor units, e.g. 9999 cents, with the currency's exponent beside it). An
 * amount is read from the number's text exactly as the client sent it, never through a
 * float: `1.0000000000000000000001` is refused, not rounded to 1.00.
 */
import { ISO_4217_EXPONENTS } from './iso4217.ts';

/** The largest amount accepted, in major units of any currency. */
export const MAX_AMOUNT = 1_000_000_000;

/** Whether `code` is an active ISO 4217 currency with a decimal minor unit. */
export function isSupportedCurrency(code: string): boolean {
  return ISO_4217_EXPONENTS.has(code);
}

/** The ISO 4217 exponent of `currency` (USD 2, JPY 0, BHD 3, HUF 2, IQD 3). */
export function minorDigits(currency: string): number {
  const exponent = ISO_4217_EXPONENTS.get(currency);
  if (exponent === undefined) throw new RangeError(`${currency} is not a supported ISO 4217 currency`);
  return exponent;
}

/** Why an amount was refused, as the problem body's `detail` says it. */
export type AmountResult =
  | { readonly ok: true; readonly minor: bigint; readonly exponent: number }
  | { readonly ok: false; readonly reason: string };

const jsonNumber = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/;
const maxDigits = String(MAX_AMOUNT).length;
const ZERO = '0'.charCodeAt(0);

/**
 * `text` (a JSON number as sent, in major units) in minor units of `currency`, or why it is
 * not a valid amount. Trailing zeros are no extra precision (`5.10` USD is 510). Linear in the
 * length of `text`: the digits are trimmed and both bounds checked on the string, so a
 * `BigInt` is only made of at most a dozen digits (a 1 MiB `1.000…` must not hold the loop).
 */
export function toMinorUnits(text: string, currency: string): AmountResult {
  const match = jsonNumber.exec(text);
  if (match === null) return { ok: false, reason: 'amount must be a JSON number' };
  const [, sign, whole, fraction = '', exponentText = '0'] = match;
  const all = `${whole}${fraction}`;
  let end = all.length;
  while (end > 0 && all.charCodeAt(end - 1) === ZERO) end--;
  let start = 0;
  while (start < end && all.charCodeAt(start) === ZERO) start++;
  const digits = all.slice(start, end); // the significant digits
  if (digits === '' || sign === '-') return { ok: false, reason: 'amount must be greater than 0' };
  // The amount is digits × 10^power.
  const power = Number(exponentText) - fraction.length + (all.length - end);
  const tooLarge = { ok: false, reason: `amount must be at most ${MAX_AMOUNT}` } as const;
  if (digits.length + power > maxDigits) return tooLarge;
  const exponent = minorDigits(currency);
  if (power + exponent < 0) {
    return { ok: false, reason: `${currency} amounts have at most ${exponent} decimal places` };
  }
  const minor = BigInt(digits) * 10n ** BigInt(power + exponent);
  if (minor > BigInt(MAX_AMOUNT) * 10n ** BigInt(exponent)) return tooLarge;
  return { ok: true, minor, exponent };
}

/** Minor units back to the JSON number the client sent (`9999n` at exponent 2 → `99.99`). */
export function toAmount(minor: bigint, exponent: number): number {
  const text = minor.toString().padStart(exponent + 1, '0');
  return Number(exponent === 0 ? text : `${text.slice(0, -exponent)}.${text.slice(-exponent)}`);
}
