import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { ErrorCode, TollgateError } from 'tollgate';
import {
  canonicalJson,
  FingerprintError,
  type FingerprintInput,
  fingerprint,
  isFingerprintError,
  tryFingerprint,
} from 'tollgate/idempotency';
import { describe, expect, it } from 'vitest';

const fingerprintCodes = [
  ErrorCode.FingerprintDepth,
  ErrorCode.FingerprintNumber,
  ErrorCode.FingerprintNotJson,
];

const post = (json: unknown): FingerprintInput => ({ method: 'POST', route: '/payments', body: { json } });

/** The error `fingerprint` refuses with; fails the test when it does not refuse. */
function refusal(input: FingerprintInput, exclude: string[] = []): FingerprintError {
  const result = tryFingerprint(input, { exclude });
  if (result.ok) throw new Error('fingerprint accepted a body it should refuse');
  expect(() => fingerprint(input, { exclude })).toThrow(FingerprintError);
  return result.error;
}

/** Fingerprint v1 as its TSDoc states it, for comparison with the library. */
function documentedV1(method: string, route: string, kind: string, payload: string): string {
  const hash = createHash('sha256').update('tollgate-fingerprint-v1');
  for (const part of [method.toUpperCase(), route, kind, payload]) {
    hash.update(`\n${Buffer.byteLength(part)}:${part}`);
  }
  return `v1:${hash.digest('base64url')}`;
}

const payment = JSON.parse(
  '{"amount":1999,"currency":"EUR","metadata":{"order_id":"ord_1","trace_id":"t"},"items":[{"sku":"a","note":"x"},{"sku":"b"}]}',
);

describe('fingerprint refusals', () => {
  it('keeps the v1 bytes: the fingerprints computed before canonical JSON became iterative', () => {
    // Printed by the recursive implementation this change replaced (commit 01d2269).
    expect(fingerprint({ ...post(payment), method: 'post' })).toBe(
      'v1:vpTJe1js1zUWd2DK9qlqeirjueVm_1vr7MVC6ZaMZ6Y',
    );
    expect(
      fingerprint({ ...post(payment), method: 'post' }, { exclude: ['metadata.trace_id', 'items.note'] }),
    ).toBe('v1:uGue3EIwbmPkAMRd7yjUwIGPNLGY2Ucgbd_zk3aE_jU');
    const odd = JSON.parse('{"10":-0,"9":[1e21,1.5e-7,null,true,"\\ud800\\u2028é"],"":{"\\udfff":{}}}');
    expect(fingerprint({ ...post(odd), method: 'post' })).toBe(
      'v1:-RbcoSXhFkt4OSWUlIEENA7DEbeJER8dB3-Gl_v5Bbw',
    );
    expect(fingerprint({ method: 'GET', route: '/payments/:id' })).toBe(
      'v1:3XdhgaAsWKNZriVZjLvnIfvjeN4uPilNqO1N0BMDWxQ',
    );
    expect(fingerprint({ method: 'POST', route: '/upload', body: { bytes: 'a=1&b=2' } })).toBe(
      'v1:rYSn_qOKSOlZ8demqdv-AZFDIq4yn_JP2BdNRRtp0F8',
    );
  });

  it('hashes method, route and canonical body exactly as v1 documents (property)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('post', 'PUT', 'Patch'),
        fc.string({ unit: 'binary' }),
        fc.jsonValue({ stringUnit: 'binary' }),
        (method, route, json) => {
          expect(fingerprint({ method, route, body: { json } })).toBe(
            documentedV1(method, route, 'json', canonicalJson(json)),
          );
        },
      ),
    );
  });

  it('refuses 100,000-deep nesting with ERR_FINGERPRINT_DEPTH, with and without exclusions', () => {
    const deepArrays = JSON.parse(`${'['.repeat(100_000)}${']'.repeat(100_000)}`);
    const deepObjects = JSON.parse(`${'{"items":'.repeat(100_000)}1${'}'.repeat(100_000)}`);
    for (const body of [deepArrays, deepObjects, { items: deepArrays }]) {
      expect(refusal(post(body)).code).toBe(ErrorCode.FingerprintDepth);
      expect(refusal(post(body), ['items.note', 'trace_id']).code).toBe(ErrorCode.FingerprintDepth);
    }
  });

  it('refuses 1e400 and {"a":1e400} as JSON.parse reads them, with ERR_FINGERPRINT_NUMBER', () => {
    expect(refusal(post(JSON.parse('1e400'))).code).toBe(ErrorCode.FingerprintNumber);
    const member = refusal(post(JSON.parse('{"a":1e400}')));
    expect([member.code, member.pointer]).toEqual([ErrorCode.FingerprintNumber, '/a']);
    expect(refusal(post({ a: -Infinity, b: 1 }), ['b']).code).toBe(ErrorCode.FingerprintNumber);
  });

  it('refuses cycles and BigInts with ERR_FINGERPRINT_NOT_JSON, also where an exclusion path leads', () => {
    const cyclic: Record<string, unknown> = { items: [] };
    (cyclic.items as unknown[]).push(cyclic);
    const cycle = refusal(post(cyclic), ['items.note']);
    expect([cycle.code, cycle.pointer]).toEqual([ErrorCode.FingerprintNotJson, '/items/0']);
    const looped: unknown[] = [];
    looped.push(looped);
    const loop = refusal(post(looped), ['items.note']);
    expect([loop.code, loop.pointer]).toEqual([ErrorCode.FingerprintNotJson, '/0']);
    expect(refusal(post({ amount: 10n })).code).toBe(ErrorCode.FingerprintNotJson);
    expect(refusal(post(10n)).code).toBe(ErrorCode.FingerprintNotJson);
  });

  it('refuses a body that is neither { json } nor { bytes } with ERR_FINGERPRINT_NOT_JSON', () => {
    for (const body of [{ bytes: 5 }, {}, null, 'raw']) {
      expect(refusal({ method: 'POST', route: '/p', body: body as never }).code).toBe(
        ErrorCode.FingerprintNotJson,
      );
    }
  });

  it('answers tryFingerprint with the same fingerprint, and tells its errors apart from others', () => {
    expect(tryFingerprint(post(payment))).toEqual({ ok: true, fingerprint: fingerprint(post(payment)) });
    const error = refusal(post(JSON.parse('[1e400]')));
    expect(error).toBeInstanceOf(TollgateError);
    expect(error.name).toBe('FingerprintError');
    expect(isFingerprintError(error)).toBe(true);
    // One from another copy of the library: an Error with one of the codes.
    expect(isFingerprintError(Object.assign(new Error('x'), { code: 'ERR_FINGERPRINT_DEPTH' }))).toBe(true);
    expect(isFingerprintError(new TollgateError('ERR_STORE_REPLY', 'x'))).toBe(false);
    expect(isFingerprintError({ code: 'ERR_FINGERPRINT_DEPTH' })).toBe(false);
    expect(isFingerprintError(new RangeError('Maximum call stack size exceeded'))).toBe(false);
  });

  it('throws nothing but FingerprintError for any JavaScript value as the JSON body, excluded paths or not (property)', () => {
    const anything = fc.anything({
      withBigInt: true,
      withBoxedValues: true,
      withDate: true,
      withMap: true,
      withSet: true,
      withNullPrototype: true,
      withSparseArray: true,
      withTypedArray: true,
      key: fc.constantFrom('a', 'b', 'note', 'items', '__proto__', ''),
      values: [fc.double(), fc.string(), fc.constantFrom(undefined, null, () => 1, Symbol('s'), 1n)],
    });
    fc.assert(
      fc.property(anything, fc.constantFrom([], ['a'], ['items.note', 'a.b'], ['']), (json, exclude) => {
        const result = tryFingerprint(post(json), { exclude });
        if (result.ok) expect(result.fingerprint).toMatch(/^v1:[A-Za-z0-9_-]{43}$/);
        else expect(fingerprintCodes).toContain(result.error.code);
      }),
    );
  });
});
