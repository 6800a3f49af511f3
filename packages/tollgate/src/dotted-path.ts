/**
 * The value at a dotted path (`message.successful_payment.invoice_payload`) inside parsed
 * JSON or a configuration object; `undefined` when any step is missing or not an object.
 */
export function valueAt(root: unknown, path: string): unknown {
  let value = root;
  for (const name of path.split('.')) {
    value =
      value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[name] : undefined;
  }
  return value;
}
