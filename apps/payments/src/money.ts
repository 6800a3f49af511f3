/**
 * Money as the API speaks it (a JSON number in major units, e.g. `99.99`) and as it is stored
 * (a bigint of minor units, e.g. 9999 cents). Conversion goes through the number's shortest
 * decimal text, never through float arithmetic.
 */

/** The largest amount accepted, in major units of any currency. */
export const MAX_AMOUNT = 1_000_000_000;

const supported = new Set(Intl.supportedValuesOf('currency'));

/** Whether `code` is an ISO 4217 currency this runtime knows. */
export function isSupportedCurrency(code: string): boolean {
  return supported.has(code);
}

/** How many minor digits `currency` has (USD 2, JPY 0, BHD 3). */
export function minorDigits(currency: string): number {
  let digits = digitsByCurrency.get(currency);
  if (digits === undefined) {
    // Building a NumberFormat costs far more than the rest of a request: once per currency.
    digits =
      new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ??
      2;
    digitsByCurrency.set(currency, digits);
  }
  return digits;
}

const digitsByCurrency = new Map<string, number>();

/** Why an amount was refused, as the problem body's `detail` says it. */
export type AmountResult =
  | { readonly ok: true; readonly minor: bigint }
  | { readonly ok: false; readonly reason: string };

/** `amount` (major units, as sent) in minor units of `currency`, or why it is not a valid amount. */
export function toMinorUnits(amount: number, currency: string): AmountResult {
  if (!Number.isFinite(amount)) return { ok: false, reason: 'amount must be a finite number' };
  if (amount <= 0) return { ok: false, reason: 'amount must be greater than 0' };
  if (amount > MAX_AMOUNT) return { ok: false, reason: `amount must be at most ${MAX_AMOUNT}` };
  const digits = minorDigits(currency);
  const decimal = String(amount);
  const match = /^(\d+)(?:\.(\d+))?$/.exec(decimal);
  const fraction = match?.[2] ?? '';
  if (match === null || fraction.length > digits) {
    return { ok: false, reason: `${currency} amounts have at most ${digits} decimal places` };
  }
  return { ok: true, minor: BigInt(match[1]! + fraction.padEnd(digits, '0')) };
}

/** Minor units back to the JSON number the client sent (`9999n`, USD → `99.99`). */
export function toAmount(minor: bigint, currency: string): number {
  const digits = minorDigits(currency);
  const text = minor.toString().padStart(digits + 1, '0');
  return Number(digits === 0 ? text : `${text.slice(0, -digits)}.${text.slice(-digits)}`);
}
