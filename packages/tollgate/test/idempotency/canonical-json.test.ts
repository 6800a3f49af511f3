import fc from 'fast-check';
import { ErrorCode } from 'tollgate';
import { canonicalJson, FingerprintError, MAX_JSON_DEPTH } from 'tollgate/idempotency';
import { describe, expect, it } from 'vitest';

const fingerprintCodes = [
  ErrorCode.FingerprintDepth,
  ErrorCode.FingerprintNumber,
  ErrorCode.FingerprintNotJson,
];

/** The documented rules written the plain recursive way, for values of ordinary depth. */
function reference(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(reference).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const members = Object.keys(value)
      .sort()
      .filter((name) => (value as Record<string, unknown>)[name] !== undefined)
      .map((name) => `${JSON.stringify(name)}:${reference((value as Record<string, unknown>)[name])}`);
    return `{${members.join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The same value with every object's members inserted in the order `order` picks. */
function reordered(value: unknown, order: readonly number[]): unknown {
  if (Array.isArray(value)) return value.map((item) => reordered(item, order));
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value);
  const picked: [string, unknown][] = [];
  for (const [i, choice] of order.entries()) {
    if (entries.length === 0) break;
    const [entry] = entries.splice((choice + i) % entries.length, 1);
    picked.push(entry!);
  }
  picked.push(...entries);
  return Object.fromEntries(picked.map(([name, member]) => [name, reordered(member, order)]));
}

/** The error `canonicalJson(value)` refuses with; fails the test when it does not refuse. */
function refusal(value: unknown): FingerprintError {
  try {
    canonicalJson(value);
  } catch (error) {
    expect(error).toBeInstanceOf(FingerprintError);
    return error as FingerprintError;
  }
  throw new Error('canonicalJson accepted a value it should refuse');
}

const nestedArrays = (depth: number) => JSON.parse(`${'['.repeat(depth)}${']'.repeat(depth)}`);
const nestedObjects = (depth: number) => JSON.parse(`${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`);

/** String segments that JSON Pointer must escape, and code units that are lone surrogates. */
const awkwardString = fc.string({
  unit: fc.oneof(
    fc.constantFrom('~', '/', '\ud800', '\udfff', '"', '\\'),
    fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
  ),
  maxLength: 6,
});

/** A bad value, the code it is refused with, and whether an object member holding it is left out instead. */
const badLeaf = fc.constantFrom(
  { value: Number.POSITIVE_INFINITY, code: ErrorCode.FingerprintNumber, skippedAsMember: false },
  { value: Number.NEGATIVE_INFINITY, code: ErrorCode.FingerprintNumber, skippedAsMember: false },
  { value: Number.NaN, code: ErrorCode.FingerprintNumber, skippedAsMember: false },
  { value: 10n, code: ErrorCode.FingerprintNotJson, skippedAsMember: false },
  { value: () => 1, code: ErrorCode.FingerprintNotJson, skippedAsMember: false },
  { value: Symbol('s'), code: ErrorCode.FingerprintNotJson, skippedAsMember: false },
  { value: undefined, code: ErrorCode.FingerprintNotJson, skippedAsMember: true },
);

/** Where to put the bad leaf: each step an array index or an object member name, with JSON filler around it. */
const placement = fc.array(
  fc.oneof(
    fc.record({ index: fc.nat(4), filler: fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 4 }) }),
    fc.record({
      name: awkwardString,
      filler: fc.dictionary(awkwardString, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }),
    }),
  ),
  { maxLength: 12 },
);

describe('canonicalJson', () => {
  it('equals the plain recursive canonicalisation for ordinary JSON values (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue({ stringUnit: 'binary' }), (value) => {
        expect(canonicalJson(value)).toBe(reference(value));
      }),
    );
  });

  it('does not depend on the order of members (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.array(fc.nat(), { minLength: 1, maxLength: 8 }), (value, order) => {
        expect(canonicalJson(reordered(value, order))).toBe(canonicalJson(value));
      }),
    );
  });

  it('writes -0 as 0 and numbers in their shortest form', () => {
    expect(canonicalJson(JSON.parse('[-0, 1.0, 1e0, 1E+0, 0.10, 1e21, 1.5e-7]'))).toBe(
      '[0,1,1,1,0.1,1e+21,1.5e-7]',
    );
  });

  it('encodes lone surrogates in strings and keys as escapes, deterministically and reversibly (property)', () => {
    expect(canonicalJson({ '\udfff': '\ud800x', a: '\ud83d\ude00' })).toBe('{"a":"😀","\\udfff":"\\ud800x"}');
    fc.assert(
      fc.property(fc.dictionary(awkwardString, awkwardString), (value) => {
        const text = canonicalJson(value);
        expect(text).not.toMatch(/\p{Cs}/u);
        expect(JSON.parse(text)).toEqual(value);
        expect(canonicalJson(JSON.parse(text))).toBe(text);
      }),
    );
  });

  it(`accepts ${MAX_JSON_DEPTH} levels of nesting and refuses ${MAX_JSON_DEPTH + 1}`, () => {
    expect(canonicalJson(nestedArrays(MAX_JSON_DEPTH))).toBe(
      `${'['.repeat(MAX_JSON_DEPTH)}${']'.repeat(MAX_JSON_DEPTH)}`,
    );
    expect(canonicalJson(nestedObjects(MAX_JSON_DEPTH))).toBe(reference(nestedObjects(MAX_JSON_DEPTH)));
    const arrays = refusal(nestedArrays(MAX_JSON_DEPTH + 1));
    expect(arrays.code).toBe(ErrorCode.FingerprintDepth);
    expect(arrays.pointer).toBe('/0'.repeat(MAX_JSON_DEPTH));
    const objects = refusal(nestedObjects(MAX_JSON_DEPTH + 1));
    expect(objects.code).toBe(ErrorCode.FingerprintDepth);
    expect(objects.pointer).toBe('/a'.repeat(MAX_JSON_DEPTH));
    expect(objects.message).toMatch(/more than 64 levels deep/);
  });

  it('refuses a body nested 100,000 deep with ERR_FINGERPRINT_DEPTH, without overflowing the stack', () => {
    for (const deep of [nestedArrays(100_000), nestedObjects(100_000)]) {
      expect(refusal(deep).code).toBe(ErrorCode.FingerprintDepth);
    }
    expect(refusal({ ok: 1, deep: nestedArrays(100_000) }).pointer).toBe(
      `/deep${'/0'.repeat(MAX_JSON_DEPTH - 1)}`,
    );
  });

  it('refuses numbers outside the double range, as JSON.parse reads them, with ERR_FINGERPRINT_NUMBER', () => {
    for (const [text, pointer] of [
      ['1e400', ''],
      ['-1e400', ''],
      ['{"a":1e400}', '/a'],
      ['{"b":[1,-1e400]}', '/b/1'],
    ] as const) {
      const error = refusal(JSON.parse(text));
      expect(error.code).toBe(ErrorCode.FingerprintNumber);
      expect(error.pointer).toBe(pointer);
      expect(error.message).toMatch(/outside the range of a 64-bit double; send such values as strings/);
    }
    expect(refusal({ n: Number.NaN }).message).toMatch(/^The number at "\/n" is not a number/);
    const long = refusal({ ['k'.repeat(10_000)]: Number.POSITIVE_INFINITY });
    expect(long.pointer).toBe(`/${'k'.repeat(10_000)}`);
    expect(long.message.length).toBeLessThan(300);
  });

  it('refuses BigInts, functions, symbols and undefined in an array with ERR_FINGERPRINT_NOT_JSON', () => {
    for (const [value, pointer, what] of [
      [10n, '', 'a BigInt'],
      [{ amount: 10n }, '/amount', 'a BigInt'],
      [{ f: () => 1 }, '/f', 'a function'],
      [[Symbol('s')], '/0', 'a symbol'],
      [[1, undefined], '/1', 'undefined'],
      // biome-ignore lint/suspicious/noSparseArray: a hole is what is tested
      [[1, , 2], '/1', 'undefined'],
      [undefined, '', 'undefined'],
    ] as const) {
      const error = refusal(value);
      expect(error.code).toBe(ErrorCode.FingerprintNotJson);
      expect(error.pointer).toBe(pointer);
      expect(error.message).toContain(what);
    }
  });

  it('refuses cycles with ERR_FINGERPRINT_NOT_JSON and accepts a value shared without a cycle', () => {
    const object: Record<string, unknown> = { a: 1 };
    object.self = object;
    const array: unknown[] = [];
    array.push(1, array);
    const far: Record<string, unknown> = {};
    let tip = far;
    for (let i = 0; i < 100; i++) tip = tip.next = {};
    tip.back = far;
    for (const [value, pointer] of [
      [object, '/self'],
      [array, '/1'],
    ] as const) {
      const error = refusal(value);
      expect(error.code).toBe(ErrorCode.FingerprintNotJson);
      expect(error.pointer).toBe(pointer);
      expect(error.message).toMatch(/contains itself/);
    }
    expect(refusal(far).code).toBe(ErrorCode.FingerprintDepth);
    const shared = { x: 1 };
    expect(canonicalJson({ a: shared, b: [shared] })).toBe('{"a":{"x":1},"b":[{"x":1}]}');
  });

  it('honours toJSON and refuses one that throws or never ends', () => {
    expect(canonicalJson({ at: new Date(0) })).toBe('{"at":"1970-01-01T00:00:00.000Z"}');
    const chain = (calls: number): unknown => (calls === 0 ? 2 : { toJSON: () => chain(calls - 1) });
    expect(canonicalJson({ v: chain(8) })).toBe('{"v":2}');
    expect(refusal({ v: chain(9) }).pointer).toBe('/v');
    const cause = new Error('boom');
    const throwing = refusal({
      v: {
        toJSON() {
          throw cause;
        },
      },
    });
    expect([throwing.code, throwing.pointer, throwing.cause]).toEqual([
      ErrorCode.FingerprintNotJson,
      '/v',
      cause,
    ]);
    const selfish = {
      toJSON() {
        return this;
      },
    };
    expect(refusal([selfish]).code).toBe(ErrorCode.FingerprintNotJson);
  });

  it('refuses exactly the one bad value planted in a JSON value, at its JSON Pointer (property)', () => {
    fc.assert(
      fc.property(badLeaf, placement, (bad, steps) => {
        let value: unknown = bad.value;
        const pointer: string[] = [];
        for (const step of steps.toReversed()) {
          if ('index' in step) {
            const at = Math.min(step.index, step.filler.length);
            value = [...step.filler.slice(0, at), value, ...step.filler.slice(at)];
            pointer.unshift(String(at));
          } else {
            const holder: Record<string, unknown> = { ...step.filler };
            Object.defineProperty(holder, step.name, {
              value,
              enumerable: true,
              writable: true,
              configurable: true,
            });
            value = holder;
            pointer.unshift(step.name.replaceAll('~', '~0').replaceAll('/', '~1'));
          }
        }
        const skipped = bad.skippedAsMember && steps.length > 0 && 'name' in steps.at(-1)!;
        if (skipped) {
          expect(canonicalJson(value)).toBe(reference(value));
        } else {
          const error = refusal(value);
          expect(error.code).toBe(bad.code);
          expect(error.pointer).toBe(pointer.map((segment) => `/${segment}`).join(''));
        }
      }),
    );
  });

  it('throws nothing but FingerprintError for any JavaScript value, and what it writes is canonical JSON (property)', () => {
    const anything = fc.anything({
      withBigInt: true,
      withBoxedValues: true,
      withDate: true,
      withMap: true,
      withSet: true,
      withNullPrototype: true,
      withObjectString: true,
      withSparseArray: true,
      withTypedArray: true,
      stringUnit: 'binary',
      values: [
        fc.double(),
        fc.string({ unit: 'binary' }),
        fc.constantFrom(undefined, null, () => 1, Symbol('s'), 1n, Number.NaN),
      ],
    });
    const maybeCyclic = fc.tuple(anything, fc.boolean(), fc.nat(200)).map(([value, cyclic, depth]) => {
      let wrapped: unknown = value;
      for (let i = 0; i < depth; i++) wrapped = [wrapped];
      if (cyclic && value !== null && typeof value === 'object')
        (value as Record<string, unknown>).again = wrapped;
      return wrapped;
    });
    fc.assert(
      fc.property(maybeCyclic, (value) => {
        let text: string;
        try {
          text = canonicalJson(value);
        } catch (error) {
          expect(error).toBeInstanceOf(FingerprintError);
          expect(fingerprintCodes).toContain((error as FingerprintError).code);
          return;
        }
        expect(canonicalJson(JSON.parse(text))).toBe(text);
      }),
    );
  });
});
