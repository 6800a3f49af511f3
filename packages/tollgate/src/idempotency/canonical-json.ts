import { ErrorCode } from '../codes.ts';
import { FingerprintError } from './errors.ts';

/**
 * The deepest nesting of arrays and objects that {@link canonicalJson} accepts (a top-level
 * object is level 1). No request body needs more; a deeper one is refused with
 * `ERR_FINGERPRINT_DEPTH`, for a 400. The walk keeps its own stack, so this is a rule about bodies,
 * not a guard for the call stack.
 */
export const MAX_JSON_DEPTH = 64;

/** How many `toJSON` calls one value may take (a `toJSON` may return another object with one). */
const MAX_TO_JSON_CALLS = 8;

/** Where a message quotes the JSON Pointer, it cuts it to this many characters. */
const MAX_QUOTED_POINTER = 120;

/** An array or object being written: its member names (`null` for an array) and the next index. */
interface Open {
  readonly container: object;
  readonly names: readonly string[] | null;
  next: number;
  wrote: boolean;
}

/**
 * One text per JSON value: object keys sorted (by UTF-16 code units), no whitespace, numbers in
 * JavaScript's shortest round-trip form (`1.0`, `1e0` and `1` are all `1`; `-0` is `0`), strings
 * escaped as `JSON.stringify` does (so a lone surrogate becomes a `\udXXX` escape). Two bodies
 * that parse to the same value get the same text. Members whose value is `undefined` are left
 * out, as `JSON.stringify` does; `toJSON` is honoured.
 *
 * The walk uses its own stack, so no input can overflow the call stack.
 *
 * @throws {FingerprintError} `ERR_FINGERPRINT_DEPTH` past {@link MAX_JSON_DEPTH} levels,
 * `ERR_FINGERPRINT_NUMBER` for `±Infinity` (what `JSON.parse` makes of `1e400`) and `NaN`,
 * `ERR_FINGERPRINT_NOT_JSON` for functions, symbols, BigInts, `undefined` in an array or at the top,
 * cycles, and a `toJSON` or getter that throws. Nothing else.
 */
export function canonicalJson(value: unknown): string {
  const open: Open[] = [];
  let text = '';
  let current = value;
  try {
    walk: for (;;) {
      if (current !== null && typeof current === 'object') current = resolveToJson(current);
      switch (typeof current) {
        case 'string':
          text += JSON.stringify(current);
          break;
        case 'boolean':
          text += current ? 'true' : 'false';
          break;
        case 'number':
          if (!Number.isFinite(current)) throw badNumber(current, open);
          text += String(current);
          break;
        case 'object':
          if (current === null) {
            text += 'null';
            break;
          }
          if (open.length === MAX_JSON_DEPTH) throw tooDeep(current, open);
          if (Array.isArray(current)) {
            text += '[';
            open.push({ container: current, names: null, next: 0, wrote: false });
          } else {
            text += '{';
            open.push({ container: current, names: Object.keys(current).sort(), next: 0, wrote: false });
          }
          break;
        default:
          throw notJson(current, open);
      }
      // Move to the next value to write, closing every container that has none left.
      for (let top = open.at(-1); top !== undefined; open.pop(), top = open.at(-1)) {
        if (top.names === null) {
          const items = top.container as readonly unknown[];
          if (top.next < items.length) {
            if (top.next > 0) text += ',';
            current = items[top.next++];
            continue walk;
          }
          text += ']';
        } else {
          const members = top.container as Readonly<Record<string, unknown>>;
          while (top.next < top.names.length) {
            const name = top.names[top.next++]!;
            const member = members[name];
            if (member === undefined) continue;
            text += top.wrote ? `,${JSON.stringify(name)}:` : `${JSON.stringify(name)}:`;
            top.wrote = true;
            current = member;
            continue walk;
          }
          text += '}';
        }
      }
      return text;
    }
  } catch (error) {
    if (error instanceof FingerprintError) throw error;
    throw new FingerprintError(
      ErrorCode.FingerprintNotJson,
      `The value at ${where(open)} could not be read as JSON (${error instanceof Error ? error.message : String(error)}).`,
      pointer(open),
      { cause: error },
    );
  }
}

/** What `JSON.stringify` writes for `value`: the result of its `toJSON`, followed a few times. */
function resolveToJson(value: object): unknown {
  let current: unknown = value;
  for (let calls = 0; current !== null && typeof current === 'object'; calls++) {
    const toJson = (current as { toJSON?: unknown }).toJSON;
    if (typeof toJson !== 'function') break;
    if (calls === MAX_TO_JSON_CALLS)
      throw new Error(`its toJSON still answers with a toJSON after ${calls} calls`);
    current = toJson.call(current);
  }
  return current;
}

function badNumber(value: number, open: readonly Open[]): FingerprintError {
  return new FingerprintError(
    ErrorCode.FingerprintNumber,
    `The number at ${where(open)} is ${Number.isNaN(value) ? 'not a number' : 'outside the range of a 64-bit double'}; send such values as strings.`,
    pointer(open),
  );
}

function tooDeep(value: object, open: readonly Open[]): FingerprintError {
  // A cycle shows as endless depth; the path is searched for a repeat only once refused.
  const path = [...open.map((frame) => frame.container), value];
  const repeat = path.findIndex((container, index) => path.indexOf(container) < index);
  if (repeat >= 0) {
    const at = open.slice(0, repeat);
    return new FingerprintError(
      ErrorCode.FingerprintNotJson,
      `The value at ${where(at)} contains itself; JSON cannot hold a cycle.`,
      pointer(at),
    );
  }
  return new FingerprintError(
    ErrorCode.FingerprintDepth,
    `The JSON body nests arrays and objects more than ${MAX_JSON_DEPTH} levels deep; flatten it.`,
    pointer(open),
  );
}

function notJson(value: unknown, open: readonly Open[]): FingerprintError {
  const what =
    value === undefined
      ? 'undefined (or a hole in an array)'
      : typeof value === 'bigint'
        ? 'a BigInt'
        : `a ${typeof value}`;
  return new FingerprintError(
    ErrorCode.FingerprintNotJson,
    `The value at ${where(open)} is ${what}, which JSON cannot hold; send a string, number, boolean, null, array or object.`,
    pointer(open),
  );
}

/** The RFC 6901 JSON Pointer of the value being written. */
function pointer(open: readonly Open[]): string {
  return open
    .map((frame) => {
      const segment = frame.names === null ? String(frame.next - 1) : (frame.names[frame.next - 1] ?? '');
      return `/${segment.replaceAll('~', '~0').replaceAll('/', '~1')}`;
    })
    .join('');
}

/** The pointer for a message: quoted, and cut short when a client sent very long names. */
function where(open: readonly Open[]): string {
  if (open.length === 0) return 'the top level';
  const at = pointer(open);
  return JSON.stringify(at.length > MAX_QUOTED_POINTER ? `${at.slice(0, MAX_QUOTED_POINTER)}…` : at);
}
