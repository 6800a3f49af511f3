import fc from 'fast-check';
import { canonicalJson, fingerprint } from 'tollgate/idempotency';
import { describe, expect, it } from 'vitest';

const json = (value: unknown) => fingerprint({ method: 'POST', route: '/payments', body: { json: value } });

/** The same object with its keys in another order, all the way down. */
function shuffled(value: unknown, seed: number): unknown {
  if (Array.isArray(value)) return value.map((item, i) => shuffled(item, seed + i));
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value);
  const rotated = entries.map((_, i) => entries[(i + seed) % entries.length]!).reverse();
  return Object.fromEntries(rotated.map(([k, v]) => [k, shuffled(v, seed + 1)]));
}

describe('fingerprint v1', () => {
  it('is versioned and covers method, route and body', () => {
    const base = json({ amount: 1 });
    expect(base).toMatch(/^v1:[A-Za-z0-9_-]{43}$/);
    expect(fingerprint({ method: 'post', route: '/payments', body: { json: { amount: 1 } } })).toBe(base);
    expect(fingerprint({ method: 'PUT', route: '/payments', body: { json: { amount: 1 } } })).not.toBe(base);
    expect(fingerprint({ method: 'POST', route: '/refunds', body: { json: { amount: 1 } } })).not.toBe(base);
    expect(json({ amount: 2 })).not.toBe(base);
    expect(fingerprint({ method: 'POST', route: '/payments' })).not.toBe(json(''));
  });

  it('hashes exactly as it always has: stored fingerprints stay comparable across upgrades', () => {
    // A changed hash would make every retry that crosses a deploy a 422 mismatch.
    expect(fingerprint({ method: 'post', route: '/p', body: { json: { b: 1, a: 'é\ud800' } } })).toBe(
      'v1:VUywS5rRWRLlRR46cND_3z8MEP8lWdnrCiJJsHmLzNE',
    );
    expect(fingerprint({ method: 'GET', route: '/x' })).toBe(
      'v1:u4QHJTgQ5XhJJmRmnBZyM78qzyaYlLZsAHePGHUn5Vg',
    );
    expect(fingerprint({ method: 'PUT', route: '/y', body: { bytes: new Uint8Array([0, 255, 3]) } })).toBe(
      'v1:0dIj2plucZRHnhlCrQZxpowFlcCGTVnTZuOasXwgvY0',
    );
    expect(fingerprint({ method: 'PUT', route: '/y', body: { bytes: 'h\u00e9llo' } })).toBe(
      'v1:Lx3Wyd-3me7WwXAqbaLN6XRE5JlGLxJBoQUUEqde7Gc',
    );
  });

  it('tells path parameters apart, and leaves a request without any as it was', () => {
    const charge = (params?: Record<string, string | undefined>) =>
      fingerprint({
        method: 'POST',
        route: '/accounts/:id/charge',
        body: { json: { amount: 1 } },
        ...(params && { params }),
      });
    expect(charge({ id: 'acct_1' })).not.toBe(charge({ id: 'acct_2' }));
    expect(charge({ id: 'acct_1' })).toBe(charge({ id: 'acct_1' }));
    expect(charge({ id: 'acct_1', v: 'x' })).toBe(charge({ v: 'x', id: 'acct_1' }));
    expect(charge({})).toBe(charge());
    expect(charge({ id: undefined })).toBe(charge());
    expect(charge({ id: '' })).not.toBe(charge());
  });

  it('ignores key order and number spelling, not values', () => {
    expect(json(JSON.parse('{"a":1,"b":{"y":[1,2],"x":"é"}}'))).toBe(
      json(JSON.parse('{"b":{"x":"\\u00e9","y":[1.0,2e0]},"a":1}')),
    );
    expect(json([1, 2])).not.toBe(json([2, 1]));
    expect(json({ a: '1' })).not.toBe(json({ a: 1 }));
    expect(json({ a: null })).not.toBe(json({}));
    expect(json({ a: undefined })).toBe(json({}));
    expect(json(-0)).toBe(json(0));
  });

  it('compares non-JSON bodies byte for byte', () => {
    const bytes = (body: Uint8Array | string) =>
      fingerprint({ method: 'POST', route: '/upload', body: { bytes: body } });
    expect(bytes('a=1&b=2')).toBe(bytes(Buffer.from('a=1&b=2')));
    expect(bytes('a=1&b=2')).not.toBe(bytes('b=2&a=1'));
    expect(bytes(new Uint8Array([0xff]))).not.toBe(bytes(new Uint8Array([0xfe])));
    expect(bytes('{"a":1}')).not.toBe(json({ a: 1 }));
  });

  it('leaves out excluded fields, nested and inside arrays, without touching the body', () => {
    const exclude = { exclude: ['trace_id', 'metadata.sent_at', 'items.note'] };
    const body = {
      amount: 5,
      trace_id: 't1',
      metadata: { sent_at: 1, order: 'o1' },
      items: [{ sku: 'a', note: 'x' }],
    };
    const other = {
      amount: 5,
      trace_id: 't2',
      metadata: { sent_at: 2, order: 'o1' },
      items: [{ sku: 'a', note: 'y' }],
    };
    const fp = (value: unknown) =>
      fingerprint({ method: 'POST', route: '/p', body: { json: value } }, exclude);
    expect(fp(body)).toBe(fp(other));
    expect(fp(body)).not.toBe(fp({ ...body, metadata: { sent_at: 1, order: 'o2' } }));
    expect(body.trace_id).toBe('t1');
    expect(body.items[0]!.note).toBe('x');
  });

  it('does not depend on key order (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.nat(20), (value, seed) => {
        expect(json(shuffled(value, seed))).toBe(json(value));
      }),
    );
  });

  it('is the same for every JSON spelling of the same value: unicode escapes, number forms (property)', () => {
    const unicodeJson = fc.jsonValue({ stringUnit: 'binary' });
    fc.assert(
      fc.property(unicodeJson, (value) => {
        const escaped = JSON.stringify(value, null, 1).replace(
          /[^\x20-\x7e\n]/g,
          (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
        );
        expect(json(JSON.parse(escaped))).toBe(json(value));
      }),
      { numRuns: 40 },
    );
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (n) => {
        for (const spelling of [n.toExponential(), n.toPrecision(17), String(n)]) {
          expect(json({ n: JSON.parse(spelling) })).toBe(json({ n }));
        }
      }),
    );
  });

  it('canonicalises to text that parses back to the same value and differs for different values (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), (a, b) => {
        const text = canonicalJson(a);
        expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(a)));
        expect(canonicalJson(JSON.parse(text))).toBe(text);
        expect(json(a) === json(b)).toBe(text === canonicalJson(b));
      }),
    );
  });
});
