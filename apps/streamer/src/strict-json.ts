/** Why a JSON body was refused, or the parsed value. */
export type StrictJson =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly reason: string };

/** Containers nested deeper than this are refused (the checks below walk by recursion). */
export const MAX_JSON_DEPTH = 32;

const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const forbiddenNames = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * JSON as the service accepts it: valid JSON with no member named twice in one object (which
 * `JSON.parse` silently resolves to the last), no NUL character and no lone surrogate in any
 * string or name (PostgreSQL cannot store either), no prototype-polluting names, and no
 * nesting deeper than {@link MAX_JSON_DEPTH}.
 */
export function parseStrictJson(text: string): StrictJson {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, reason: `The body is not valid JSON: ${(error as Error).message}` };
  }
  const structure = scanStructure(text);
  if (structure === 'too-deep')
    return { ok: false, reason: `The body nests objects and arrays deeper than ${MAX_JSON_DEPTH} levels.` };
  if (structure !== undefined && 'inexact' in structure)
    return {
      ok: false,
      reason: `The number ${structure.inexact} cannot be kept exactly (it would be read as ${Number(structure.inexact)}): send at most 15 significant digits.`,
    };
  if (structure !== undefined)
    return { ok: false, reason: `The member "${structure.duplicate}" appears twice in one object.` };
  const bad = badString(value, '');
  if (bad !== undefined) return { ok: false, reason: bad };
  return { ok: true, value };
}

/**
 * Walks valid JSON `text` without recursion: the first name repeated within one object, the
 * first number `JSON.parse` would change (`1.0000000000000000001` read as 1), or `too-deep`;
 * undefined when none.
 */
function scanStructure(
  text: string,
): { readonly duplicate: string } | { readonly inexact: string } | 'too-deep' | undefined {
  // One entry per open container: the names seen (objects) or null (arrays).
  const open: (Set<string> | null)[] = [];
  let expectName = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '{' || c === '[') {
      if (open.length === MAX_JSON_DEPTH) return 'too-deep';
      open.push(c === '{' ? new Set() : null);
      expectName = c === '{';
    } else if (c === '}' || c === ']') {
      open.pop();
    } else if (c === ',') {
      expectName = open.at(-1) != null;
    } else if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) {
      let end = i + 1;
      while (end < text.length && /[0-9eE+\-.]/.test(text[end]!)) end++;
      const literal = text.slice(i, end);
      if (!exact(literal)) return { inexact: literal.length > 40 ? `${literal.slice(0, 40)}…` : literal };
      i = end - 1;
    } else if (c === '"') {
      let end = i + 1;
      while (text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      if (expectName) {
        const name = JSON.parse(text.slice(i, end + 1)) as string;
        const names = open.at(-1)!;
        if (names.has(name)) return { duplicate: name };
        names.add(name);
        expectName = false;
      }
      i = end;
    }
  }
  return undefined;
}

function badString(value: unknown, path: string): string | undefined {
  if (typeof value === 'string') return badText(value, path || '/');
  if (value === null || typeof value !== 'object') return undefined;
  for (const [name, member] of Object.entries(value)) {
    const at = `${path}/${name}`;
    if (!Array.isArray(value)) {
      if (forbiddenNames.has(name)) return `The member name "${name}" is not allowed (at ${at}).`;
      const named = badText(name, at);
      if (named !== undefined) return named;
    }
    const inner = badString(member, at);
    if (inner !== undefined) return inner;
  }
  return undefined;
}

function badText(text: string, at: string): string | undefined {
  if (text.includes('\u0000')) return `A NUL character (\\u0000) is not allowed (at ${at}).`;
  if (loneSurrogate.test(text)) return `A lone UTF-16 surrogate is not allowed (at ${at}).`;
  return undefined;
}

/**
 * Whether a JSON number literal reads as the number it says: its decimal value equals that of
 * the double `JSON.parse` makes of it, printed back (`1.0` and `1e2` are exact; `0.1` is, as
 * JSON.parse prints it back the same; `12345678901234567890` and `5.0000000000000001` are not).
 */
export function exact(literal: string): boolean {
  const value = Number(literal);
  return Number.isFinite(value) && decimal(literal) === decimal(String(value));
}

/** A number's text in one canonical form: sign, significant digits, exponent (`-0.50e1` → `-5e0`). */
function decimal(text: string): string {
  const match = /^(-?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text);
  if (match === null) return text;
  const [, sign, whole = '', fraction = '', exponent = '0'] = match;
  const digits = `${whole}${fraction}`;
  const first = digits.search(/[1-9]/);
  if (first === -1) return '0';
  const significant = digits.slice(first).replace(/0+$/, '');
  // The first significant digit's power of ten.
  const power = BigInt(exponent) + BigInt(whole.length - first - 1);
  return `${sign}${significant}e${power}`;
}
