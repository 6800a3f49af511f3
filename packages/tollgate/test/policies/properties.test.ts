import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from '../../src/policies/duration.ts';
import { loadPolicies } from '../../src/policies.ts';

const unitMs = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

describe('durations (property)', () => {
  it('read as written: n followed by a unit is n units', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10_000_000 }),
        fc.constantFrom(...(Object.keys(unitMs) as (keyof typeof unitMs)[])),
        (n, unit) => {
          const duration = parseDuration(`${n}${unit}`);
          expect(duration).toEqual({ text: `${n}${unit}`, ms: n * unitMs[unit] });
        },
      ),
    );
  });

  it('round-trip: any whole number of milliseconds formats to a text that reads back to it', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 45 }), (ms) => {
        const text = formatDuration(ms);
        expect(parseDuration(text)?.ms).toBe(ms);
        expect(formatDuration(parseDuration(text)!.ms)).toBe(text);
      }),
    );
  });

  it('refuses anything that is not one positive whole number and one unit', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 8 }), (text) => {
        const valid = /^\s*[1-9][0-9]*(ms|s|m|h|d)\s*$/.test(text);
        expect(parseDuration(text) !== undefined).toBe(valid);
      }),
    );
  });
});

const segment = fc.constantFrom('a', 'b', 'ab', ':id', 'v1');
const template = fc.array(segment, { minLength: 1, maxLength: 3 }).map((parts) => `/${parts.join('/')}`);
const method = fc.constantFrom('GET', 'POST', 'DELETE');
const pattern = fc.record({
  method: fc.option(method, { nil: undefined }),
  path: template,
  prefix: fc.boolean(),
});
type Pattern = { method: string | undefined; path: string; prefix: boolean };
const text = (p: Pattern) => `${p.method === undefined ? '' : `${p.method} `}${p.path}${p.prefix ? '*' : ''}`;

/** The oracle, written plainly: the method (when named) and the template, or the prefix. */
function names(p: Pattern, requestMethod: string, requestTemplate: string): boolean {
  if (p.method !== undefined && p.method !== requestMethod) return false;
  return p.prefix ? requestTemplate.slice(0, p.path.length) === p.path : requestTemplate === p.path;
}

describe('routeOptions (property)', () => {
  it('gives a route exactly the limits whose rows name it, and the idempotency row of that exact route', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(pattern, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 5 }),
        fc.uniqueArray(fc.record({ method, path: template }), {
          maxLength: 4,
          selector: (r) => `${r.method} ${r.path}`,
        }),
        method,
        template,
        (limitRoutes, keyed, requestMethod, requestTemplate) => {
          const rows = limitRoutes.map((routes) => [...new Map(routes.map((p) => [text(p), p])).values()]);
          const document = loadPolicies({
            format: 'json',
            text: JSON.stringify({
              version: 1,
              idempotency: keyed.map((r) => ({
                route: `${r.method} ${r.path}`,
                key: { header: 'Idempotency-Key' },
              })),
              limits: rows.map((routes, index) => ({
                name: `limit-${index}`,
                scope: ['principal'],
                routes: routes.map(text),
                limit: index + 1,
                window: '1s',
              })),
            }),
          });
          const options = document.routeOptions(requestMethod, requestTemplate);
          const expectedLimits = rows.flatMap((routes, index) =>
            routes.some((p) => names(p, requestMethod, requestTemplate)) ? [`limit-${index}`] : [],
          );
          const keyedHere = keyed.some((r) => r.method === requestMethod && r.path === requestTemplate);
          if (expectedLimits.length === 0 && !keyedHere) {
            expect(options).toBeUndefined();
            return;
          }
          expect(options?.policies?.map((policy) => policy.name)).toEqual(expectedLimits);
          expect(options?.idempotency !== undefined).toBe(keyedHere);
        },
      ),
      { numRuns: 300 },
    );
  });
});
