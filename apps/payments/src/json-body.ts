import { isUtf8 } from 'node:buffer';
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { fieldProblem, ProblemError } from './problem.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * The text of every number that is a member of the JSON body's top-level object, by JSON
     * pointer (`/amount` → `"1.0000000000000000000001"`), as sent: `JSON.parse` rounds numbers
     * to doubles, so exact money must be read from here.
     */
    jsonNumbers: ReadonlyMap<string, string> | undefined;
    /**
     * Parameters sent after the JSON body as `&name=value` — what curl sends for
     * `-d '{…}' --data-urlencode "name=value"` (seed 001's simulate example) — on a route whose
     * `config.bodyParameters` names them; undefined otherwise.
     */
    bodyParameters: Readonly<Record<string, string>> | undefined;
  }
  interface FastifyContextConfig {
    /** Names a route accepts as `&name=value` after its JSON body (see `request.bodyParameters`). */
    bodyParameters?: readonly string[];
  }
}

/** A high surrogate not followed by a low one, or a low one not preceded by a high one. */
const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Replaces Fastify's `application/json` parser with one that refuses, rather than silently
 * changes, what the service could not store as sent — each with a problem naming the field:
 * - a `charset` other than UTF-8 (415), bytes that are not UTF-8 (400);
 * - an object with the same member name twice (400; `JSON.parse` keeps the last one);
 * - nesting deeper than 32 levels (400);
 * - a string or member name holding U+0000 or a lone surrogate (400; PostgreSQL refuses the
 *   first and would turn the second into U+FFFD), and `__proto__` members (400, as Fastify's
 *   parser does).
 * It also keeps the text of the top-level numbers ({@link FastifyRequest.jsonNumbers}).
 * `Content-Encoding` is checked by {@link refuseContentEncoding}, before any parser.
 */
export function registerJsonBody(app: FastifyInstance): void {
  app.decorateRequest('jsonNumbers', undefined);
  app.decorateRequest('bodyParameters', undefined);
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    try {
      done(null, parseBody(request, body as Buffer));
    } catch (error) {
      done(error as Error, undefined);
    }
  });
}

/** A `Content-Encoding` the service does not decode (anything but `identity`) answers 415. */
export function refuseContentEncoding(
  request: FastifyRequest,
  _reply: FastifyReply,
  done: HookHandlerDoneFunction,
): void {
  const encoding = request.headers['content-encoding'];
  if (encoding === undefined || encoding.trim().toLowerCase() === 'identity') {
    done();
    return;
  }
  done(
    new ProblemError(
      fieldProblem(415, 'headers', 'content-encoding', 'only identity (no Content-Encoding) is accepted'),
    ),
  );
}

function parseBody(request: FastifyRequest, bytes: Buffer): unknown {
  const charset = /;\s*charset\s*=\s*"?([^";\s]*)"?/i.exec(request.headers['content-type'] ?? '')?.[1];
  if (charset !== undefined && !/^utf-?8$/i.test(charset)) {
    throw new ProblemError(
      fieldProblem(415, 'headers', 'content-type', `charset ${charset} is not accepted; send UTF-8`),
    );
  }
  const refuse = (field: string, message: string) =>
    new ProblemError(fieldProblem(400, 'body', field, message));
  if (!isUtf8(bytes)) throw refuse('/', 'the body is not valid UTF-8');
  const text = trailingParameters(request, bytes.toString('utf8'));
  if (text.trim() === '') throw refuse('/', 'the body is empty; send a JSON object');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw refuse('/', `the body is not JSON: ${(error as Error).message}`);
  }
  const scanned = scanMembers(text);
  if (!scanned.ok) throw refuse(scanned.field, scanned.message);
  // Valid UTF-8 cannot hold a NUL inside a JSON string or a lone surrogate: only a `\u`
  // escape can, so a body without one (and without `__proto__`) needs no walk.
  const suspect = text.includes('\\u') || text.includes('__proto__');
  const bad = suspect ? unstorable(value, '') : undefined;
  if (bad !== undefined) throw refuse(bad.field, bad.message);
  request.jsonNumbers = scanned.numbers;
  return value;
}

/** `&name=value` pairs, percent-encoded as a form: what may follow the JSON on some routes. */
const formPairs = /^(?:&[^&=]+=[^&]*)+$/;

/**
 * The JSON part of `text`, with the `&name=value` pairs after its final `}` kept in
 * `request.bodyParameters` — on a route that names them, and only names it names (400 else,
 * and for a name given twice). Every other body is read whole, so such a tail is not JSON.
 */
function trailingParameters(request: FastifyRequest, text: string): string {
  const names = request.routeOptions.config?.bodyParameters;
  if (names === undefined) return text;
  const end = text.lastIndexOf('}') + 1;
  const tail = text.slice(end).trim();
  if (end === 0 || !formPairs.test(tail)) return text;
  const parameters: Record<string, string> = {};
  for (const [name, value] of new URLSearchParams(tail.slice(1))) {
    const refusal = !names.includes(name)
      ? `only ${names.join(', ')} may follow the JSON body`
      : Object.hasOwn(parameters, name)
        ? 'this parameter appears twice'
        : undefined;
    if (refusal !== undefined) throw new ProblemError(fieldProblem(400, 'body', `/${name}`, refusal));
    parameters[name] = value;
  }
  request.bodyParameters = parameters;
  return text.slice(0, end);
}

/**
 * The deepest nesting accepted (a payment is 2 levels deep): bounds the scanner's pointers
 * and the string walk's recursion, whatever a 1 MiB body holds.
 */
const MAX_DEPTH = 32;

type Scan =
  | { readonly ok: true; readonly numbers: Map<string, string> }
  | { readonly ok: false; readonly field: string; readonly message: string };

interface Frame {
  readonly pointer: string;
  readonly keys: Set<string> | undefined; // undefined for an array
  key: string;
  index: number;
  expectKey: boolean;
}

/**
 * One pass over text `JSON.parse` already accepted (so the scanner can trust its grammar):
 * finds a member name repeated within one object, and keeps the text of the top-level
 * object's numbers. A reviver cannot do either: it sees objects after duplicates collapsed,
 * and numbers after they were rounded.
 */
function scanMembers(text: string): Scan {
  const numbers = new Map<string, string>();
  const stack: Frame[] = [];
  const here = (): string => {
    const top = stack[stack.length - 1];
    if (top === undefined) return '';
    return `${top.pointer}/${top.keys ? escapePointer(top.key) : top.index}`;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      if (stack.length === MAX_DEPTH) {
        return { ok: false, field: here(), message: `the body nests deeper than ${MAX_DEPTH} levels` };
      }
      const object = c === OPEN_OBJECT;
      stack.push({
        pointer: here(),
        keys: object ? new Set() : undefined,
        key: '',
        index: 0,
        expectKey: object,
      });
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      stack.pop();
    } else if (c === COMMA) {
      const top = stack[stack.length - 1]!;
      if (top.keys) top.expectKey = true;
      else top.index++;
    } else if (c === QUOTE) {
      let end = i + 1;
      let escaped = false;
      for (let at = text.charCodeAt(end); at !== QUOTE; at = text.charCodeAt(end)) {
        if (at === BACKSLASH) {
          escaped = true;
          end++;
        }
        end++;
      }
      const top = stack[stack.length - 1];
      if (top?.keys && top.expectKey) {
        const key = escaped ? (JSON.parse(text.slice(i, end + 1)) as string) : text.slice(i + 1, end);
        if (top.keys.has(key)) {
          return {
            ok: false,
            field: `${top.pointer}/${escapePointer(key)}`,
            message: 'this member appears twice',
          };
        }
        top.keys.add(key);
        top.key = key;
        top.expectKey = false;
      }
      i = end;
    } else if (c === MINUS || (c >= DIGIT_0 && c <= DIGIT_9)) {
      let end = i + 1;
      while (end < text.length && numberPart(text.charCodeAt(end))) end++;
      if (stack.length === 1 && stack[0]!.keys) numbers.set(here(), text.slice(i, end));
      i = end - 1;
    }
  }
  return { ok: true, numbers };
}

const [OPEN_OBJECT, CLOSE_OBJECT, OPEN_ARRAY, CLOSE_ARRAY, COMMA, QUOTE, BACKSLASH, MINUS, PLUS, DOT] = [
  ...'{}[],"\\-+.',
].map((c) => c.charCodeAt(0)) as [
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
];
const [DIGIT_0, DIGIT_9, LOWER_E, UPPER_E] = [...'09eE'].map((c) => c.charCodeAt(0)) as [
  number,
  number,
  number,
  number,
];

/** A character that continues a JSON number: a digit, `.`, `e`, `E`, `+`, `-`. */
function numberPart(c: number): boolean {
  return (
    (c >= DIGIT_0 && c <= DIGIT_9) || c === DOT || c === LOWER_E || c === UPPER_E || c === PLUS || c === MINUS
  );
}

/** The first string or member name PostgreSQL could not store as sent, with where it is. */
function unstorable(value: unknown, pointer: string): { field: string; message: string } | undefined {
  const why = (text: string) =>
    text.includes('\u0000')
      ? 'holds U+0000 (NUL), which cannot be stored'
      : loneSurrogate.test(text)
        ? 'holds a lone UTF-16 surrogate, which is not a character'
        : undefined;
  if (typeof value === 'string') {
    const message = why(value);
    return message === undefined ? undefined : { field: pointer || '/', message };
  }
  if (value === null || typeof value !== 'object') return undefined;
  for (const [key, member] of Object.entries(value)) {
    const name = key === '__proto__' ? 'is __proto__, which is not accepted' : why(key);
    if (name !== undefined) return { field: pointer || '/', message: `a member name ${name}` };
    const inner = unstorable(member, `${pointer}/${escapePointer(key)}`);
    if (inner !== undefined) return inner;
  }
  return undefined;
}

/** A member name as a JSON pointer token (RFC 6901). */
function escapePointer(key: string): string {
  return key.replaceAll('~', '~0').replaceAll('/', '~1');
}
