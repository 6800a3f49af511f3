import { TollgateError } from '../errors.ts';

/**
 * One text per JSON value: object keys sorted (by UTF-16 code units), no whitespace, numbers in
 * JavaScript's shortest round-trip form (`1.0`, `1e0` and `1` are all `1`; `-0` is `0`), strings
 * escaped as `JSON.stringify` does. Two bodies that parse to the same value get the same text.
 * Members whose value is `undefined` are left out, as `JSON.stringify` does.
 */
export function canonicalJson(value: unknown): string {
  const parts: string[] = [];
  write(value, parts);
  return parts.join('');
}

function write(value: unknown, out: string[]): void {
  if (
    value !== null &&
    typeof value === 'object' &&
    typeof (value as { toJSON?: unknown }).toJSON === 'function'
  ) {
    write((value as { toJSON(): unknown }).toJSON(), out);
    return;
  }
  switch (typeof value) {
    case 'string':
    case 'boolean':
      out.push(JSON.stringify(value));
      return;
    case 'number':
      if (!Number.isFinite(value)) throw notJson(`the number ${value}`);
      out.push(JSON.stringify(value));
      return;
    case 'object':
      if (value === null) out.push('null');
      else if (Array.isArray(value)) writeArray(value, out);
      else writeObject(value as Record<string, unknown>, out);
      return;
    default:
      throw notJson(`a ${typeof value}`);
  }
}

function writeArray(values: readonly unknown[], out: string[]): void {
  out.push('[');
  values.forEach((item, index) => {
    if (index > 0) out.push(',');
    if (item === undefined) out.push('null');
    else write(item, out);
  });
  out.push(']');
}

function writeObject(object: Record<string, unknown>, out: string[]): void {
  out.push('{');
  let first = true;
  for (const name of Object.keys(object).sort()) {
    const member = object[name];
    if (member === undefined) continue;
    if (!first) out.push(',');
    first = false;
    out.push(JSON.stringify(name), ':');
    write(member, out);
  }
  out.push('}');
}

function notJson(what: string): TollgateError {
  return new TollgateError('FINGERPRINT_NOT_JSON', `A JSON body cannot hold ${what}.`);
}
