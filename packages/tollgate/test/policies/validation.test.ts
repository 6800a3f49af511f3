import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { TollgateError } from '../../src/errors.ts';
import { PolicyFileError } from '../../src/policies/errors.ts';
import { loadPolicies, type PolicyProblem } from '../../src/policies.ts';

/** The problems loading `text` reports (the test fails if it loads). */
function problemsOf(
  text: string,
  format: 'yaml' | 'json' = 'yaml',
  overrides = {},
): readonly PolicyProblem[] {
  try {
    loadPolicies({ text, format }, { overrides });
  } catch (error) {
    expect(error).toBeInstanceOf(PolicyFileError);
    return (error as PolicyFileError).errors;
  }
  throw new Error('the file loaded');
}

function problemsOfPath(path: string): readonly PolicyProblem[] {
  try {
    loadPolicies({ path });
  } catch (error) {
    expect(error).toBeInstanceOf(PolicyFileError);
    return (error as PolicyFileError).errors;
  }
  throw new Error('the file loaded');
}

/** A file with one valid limit row, some of its fields (`a: x, b: y`, YAML) replaced or added. */
function limitFile(fields: string): string {
  const row = new Map([
    ['name', 'vote'],
    ['scope', '[principal]'],
    ['routes', '[POST /v]'],
    ['limit', '30'],
    ['window', '60s'],
  ]);
  for (const field of fields.split(/,\s*(?=[A-Za-z]+:)/)) {
    const colon = field.indexOf(':');
    row.set(field.slice(0, colon).trim(), field.slice(colon + 1).trim());
  }
  const members = [...row].map(([name, value]) => `${name}: ${value}`).join(', ');
  return `version: 1\nlimits:\n  - { ${members} }\n`;
}

function expectProblem(problems: readonly PolicyProblem[], path: string, message: RegExp, fix?: RegExp) {
  expect(problems).toContainEqual(
    expect.objectContaining({
      path,
      message: expect.stringMatching(message),
      ...(fix ? { fix: expect.stringMatching(fix) } : {}),
    }),
  );
}

describe('loadPolicies: every problem, with its path and a fix', () => {
  it('reports every problem of a file at once, in a TollgateError with a stable code', () => {
    const text = [
      'version: 2',
      'limts: []',
      'idempotency:',
      '  - route: POST /a',
      '    key: { header: Idempotency-Key }',
      '    ttl: 24 hours',
      'limits:',
      '  - name: a',
      '    scope: [principal]',
      '    routes: [POST /a]',
      '    limit: "30"',
      '    windw: 60s',
      '    algorithm: leaky-bucket',
    ].join('\n');
    let thrown: unknown;
    try {
      loadPolicies({ text });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(TollgateError);
    const error = thrown as PolicyFileError;
    expect(error.code).toBe('ERR_POLICY_FILE');
    expect(error.errors.map((problem) => problem.path)).toEqual([
      'limts',
      'version',
      'idempotency[0].ttl',
      'limits[0].windw',
      'limits[0].limit',
      'limits[0].window',
      'limits[0].algorithm',
    ]);
    for (const problem of error.errors)
      expect(error.message).toContain(`${problem.path} (line ${problem.line})`);
    expect(error.errors.find((problem) => problem.path === 'limits[0].windw')).toMatchObject({
      line: 12,
      fix: 'Did you mean "window"?',
    });
    expect(error.errors.find((problem) => problem.path === 'limts')).toMatchObject({
      line: 2,
      fix: 'Did you mean "limits"?',
    });
  });

  it('refuses a misspelt or unknown field anywhere', () => {
    expectProblem(
      problemsOf(limitFile('congifKey: limits.a')),
      'limits[0].congifKey',
      /not a field/,
      /Did you mean "configKey"/,
    );
    expectProblem(
      problemsOf('version: 1\nidempotency:\n  - { route: POST /a, key: { header: K, genrated: true } }'),
      'idempotency[0].key.genrated',
      /not a field/,
      /Did you mean "generated"/,
    );
    expectProblem(
      problemsOf('version: 1\nidempotency:\n  - { route: POST /a, key: { header: K }, colour: red }'),
      'idempotency[0].colour',
      /not a field/,
      /Use one of: route, key/,
    );
  });

  it('requires version 1 and mappings and lists where they belong', () => {
    expectProblem(problemsOf('limits: []'), 'version', /missing/, /Add version: 1/);
    expectProblem(problemsOf('- 1'), '', /must be a mapping/);
    expectProblem(problemsOf('version: 1\nlimits: { name: a }'), 'limits', /must be a list/);
    expectProblem(problemsOf('version: 1\nlimits: [ 3 ]'), 'limits[0]', /must be a mapping, not 3/);
  });

  it('refuses wrong types and missing fields of a limit', () => {
    expectProblem(problemsOf(limitFile('limit: 0')), 'limits[0].limit', /at least 1, not 0/);
    expectProblem(problemsOf(limitFile('limit: 1.5')), 'limits[0].limit', /whole number/);
    expectProblem(problemsOf(limitFile('mode: dry-run')), 'limits[0].mode', /not one of enforce, shadow/);
    expectProblem(
      problemsOf(limitFile('counts: request')),
      'limits[0].counts',
      /not one of/,
      /Did you mean requests/,
    );
    expectProblem(problemsOf(limitFile('label: 3')), 'limits[0].label', /non-empty string/);
    expectProblem(
      problemsOf(limitFile('configKey: limits vote')),
      'limits[0].configKey',
      /not a configuration key/,
    );
    const missing = problemsOf('version: 1\nlimits:\n  - { name: a }');
    for (const field of ['scope', 'routes', 'limit', 'window'])
      expectProblem(missing, `limits[0].${field}`, /missing/, /Add /);
  });

  it('refuses bad durations with the grammar as the fix', () => {
    for (const window of ['60', '1.5s', '1h30m', '-5s', '0s', '5 min', '10y']) {
      expectProblem(
        problemsOf(limitFile(`window: "${window}"`)),
        'limits[0].window',
        /not a duration/,
        /whole number followed by ms, s, m, h or d/,
      );
    }
    expectProblem(problemsOf(limitFile('window: 60')), 'limits[0].window', /60 is not a duration/);
    expectProblem(
      problemsOf('version: 1\nidempotency:\n  - { route: POST /a, key: { header: K }, lease: soon }'),
      'idempotency[0].lease',
      /not a duration/,
    );
  });

  it('refuses unknown algorithms, suggesting the near one, and burst on window algorithms', () => {
    expectProblem(
      problemsOf(limitFile('algorithm: token_bucket')),
      'limits[0].algorithm',
      /not one of token-bucket, gcra, fixed-window, sliding-window/,
      /Did you mean token-bucket/,
    );
    expectProblem(
      problemsOf(limitFile('algorithm: leaky')),
      'limits[0].algorithm',
      /not one of/,
      /Write one of/,
    );
    for (const algorithm of ['sliding-window', 'fixed-window']) {
      expectProblem(
        problemsOf(limitFile(`algorithm: ${algorithm}, burst: 40`)),
        'limits[0].burst',
        new RegExp(`token-bucket and gcra only, not ${algorithm}`),
        /Remove burst/,
      );
    }
    expect(() => loadPolicies({ text: limitFile('algorithm: gcra, burst: 40') })).not.toThrow();
  });

  it('refuses bad scopes', () => {
    expectProblem(
      problemsOf(limitFile('scope: principal')),
      'limits[0].scope',
      /not a scope/,
      /Write \[principal\]/,
    );
    expectProblem(
      problemsOf(limitFile('scope: [user]')),
      'limits[0].scope[0]',
      /"user" is not a scope part/,
      /principal, ip, route, param:<name>, body:<dotted.path>/,
    );
    expectProblem(
      problemsOf(limitFile('scope: [principal, principal]')),
      'limits[0].scope',
      /names a part twice/,
    );
    expectProblem(problemsOf(limitFile('scope: [body:]')), 'limits[0].scope[0]', /not a scope part/);
  });

  it('refuses bad and duplicate routes', () => {
    expectProblem(problemsOf(limitFile('routes: []')), 'limits[0].routes', /is empty/);
    expectProblem(
      problemsOf(limitFile('routes: [votes]')),
      'limits[0].routes[0]',
      /not a route/,
      /METHOD \/template/,
    );
    expectProblem(problemsOf(limitFile('routes: [FETCH /v]')), 'limits[0].routes[0]', /not an HTTP method/);
    expectProblem(problemsOf(limitFile('routes: [/a*/b]')), 'limits[0].routes[0]', /not a route/);
    expectProblem(
      problemsOf(limitFile('routes: [POST /v, post /v]')),
      'limits[0].routes[1]',
      /names post \/v twice/i,
    );
    const idempotency = (route: string) =>
      `version: 1\nidempotency:\n  - { route: "${route}", key: { header: K } }`;
    expectProblem(
      problemsOf(idempotency('/a')),
      'idempotency[0].route',
      /must name one method and one template/,
    );
    expectProblem(
      problemsOf(idempotency('POST /a/*')),
      'idempotency[0].route',
      /must name one method and one template/,
    );
    const twice = problemsOf(`${idempotency('POST /a')}\n  - { route: post /a, key: { header: K2 } }`);
    expectProblem(
      twice,
      'idempotency[1].route',
      /POST \/a already has a row \(idempotency\[0\]\)/,
      /one row per route/,
    );
  });

  it('refuses a name reused with different numbers, and accepts it with the same', () => {
    const row = (limit: number, window = '60s') =>
      `  - { name: shared, scope: [ip], routes: [POST /${limit}${window}], limit: ${limit}, window: ${window} }`;
    expectProblem(
      problemsOf(`version: 1\nlimits:\n${row(30)}\n${row(20)}`),
      'limits[1].name',
      /reuses the name "shared" of limits\[0\] with a different limit/,
      /own name/,
    );
    expectProblem(
      problemsOf(`version: 1\nlimits:\n${row(30)}\n${row(30, '1m')}\n${row(30, '2m')}`),
      'limits[2].name',
      /different window/,
    );
    expect(() => loadPolicies({ text: `version: 1\nlimits:\n${row(30)}\n${row(30, '1m')}` })).not.toThrow();
  });

  it('refuses keys that are neither a header nor a body field, and contradictions', () => {
    const key = (text: string) => problemsOf(`version: 1\nidempotency:\n  - { route: POST /a, ${text} }`);
    expectProblem(key('key: { query: id }'), 'idempotency[0].key.query', /not a field/);
    expectProblem(
      key('key: { query: id }'),
      'idempotency[0].key',
      /neither a header nor a body field/,
      /\{ header: Idempotency-Key \} or \{ body:/,
    );
    expectProblem(
      key('key: { header: K, body: a.b }'),
      'idempotency[0].key',
      /both a header and a body field/,
    );
    expectProblem(
      key('key: Idempotency-Key'),
      'idempotency[0].key',
      /must say where the key is/,
      /\{ header: Idempotency-Key \}/,
    );
    expectProblem(
      key('key: { header: "Idempotency Key" }'),
      'idempotency[0].key.header',
      /not a header name/,
    );
    expectProblem(key('key: { body: "a..b" }'), 'idempotency[0].key.body', /not a dotted path/);
    expectProblem(
      key('key: { body: a.b, generated: true }'),
      'idempotency[0].key.generated',
      /header keys only/,
    );
    expectProblem(key('key: { header: K, label: L }'), 'idempotency[0].key.label', /body keys only/);
    expectProblem(
      key('key: { header: K, generated: true }, required: true'),
      'idempotency[0].required',
      /optional by definition/,
      /required: false/,
    );
    expectProblem(key('required: yes, key: { header: K }'), 'idempotency[0].required', /true or false/);
    expectProblem(
      key('key: { header: K }, mismatchStatus: 400'),
      'idempotency[0].mismatchStatus',
      /not one of 422, 409/,
    );
    expectProblem(key('key: { header: K }, exclude: a.b'), 'idempotency[0].exclude', /must be a list/);
    expectProblem(
      key('key: { header: K }, exclude: [a, "b c"]'),
      'idempotency[0].exclude[1]',
      /not a dotted path/,
    );
    expectProblem(
      problemsOf('version: 1\nidempotency:\n  - { route: POST /a }'),
      'idempotency[0].key',
      /missing/,
    );
  });

  it('reports what the rate-limit policy itself refuses (definePolicy)', () => {
    const problems = problemsOf(limitFile('name: "vote per minute"'));
    expectProblem(problems, 'limits[0]', /policy name "vote per minute" must be 1-64 chars/);
  });

  it('refuses configuration values that are unknown or not whole numbers ≥ 1', () => {
    const file = limitFile('configKey: limits.votePerMin');
    expectProblem(
      problemsOf(file, 'yaml', { 'limits.votePerMn': 3 }),
      'overrides.limits.votePerMn',
      /not the configKey of any limit/,
      /limits\.votePerMin/,
    );
    expectProblem(
      problemsOf(file, 'yaml', { 'limits.votePerMin': 0 }),
      'overrides.limits.votePerMin',
      /at least 1, not 0/,
    );
    expectProblem(
      problemsOf(file, 'yaml', { 'limits.votePerMin': 2.5 }),
      'overrides.limits.votePerMin',
      /not 2.5/,
    );
  });

  it('reads JSON with the same validator, and reports syntax errors of either format', () => {
    const json = JSON.stringify({
      version: 1,
      limits: [{ name: 'a', scope: 'global', routes: ['/x'], limit: 1, window: '1s', brust: 3 }],
    });
    expectProblem(problemsOf(json, 'json'), 'limits[0].brust', /not a field/, /Did you mean "burst"/);
    expectProblem(problemsOf('{ "version": 1, ', 'json'), '', /not valid JSON/);
    const yaml = problemsOf('version: 1\nversion: 1\n');
    expect(yaml[0]).toMatchObject({ path: '', line: 2, message: expect.stringMatching(/not valid YAML/) });
    expectProblem(problemsOf('version: [1\n'), '', /not valid YAML/);
  });

  it('reads a .json path as JSON and anything else as YAML, with the same rows', () => {
    const directory = mkdtempSync(join(tmpdir(), 'tollgate-policies-'));
    try {
      const yaml = new URL('./fixtures/streamer.yaml', import.meta.url).pathname;
      const fromYaml = loadPolicies({ path: yaml });
      const json = join(directory, 'streamer.json');
      writeFileSync(json, JSON.stringify(parse(readFileSync(yaml, 'utf8'))));
      expect(loadPolicies({ path: json }).markdown()).toBe(fromYaml.markdown());
      writeFileSync(join(directory, 'yaml.json'), 'version: 1');
      expectProblem(problemsOfPath(join(directory, 'yaml.json')), '', /not valid JSON/);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it('gives a missing field the line of its row', () => {
    const problems = problemsOf(
      'version: 1\nlimits:\n  - name: a\n    scope: global\n\n  - name: b\n    routes: [/b]\n',
    );
    expect(problems.find((problem) => problem.path === 'limits[1].limit')?.line).toBe(6);
    expect(problems.find((problem) => problem.path === 'limits[0].routes')?.line).toBe(3);
  });

  it('names a file it cannot read', () => {
    expect(() => loadPolicies({ path: '/nonexistent/policies.yaml' })).toThrow(
      /policies\.yaml: 1 problem\n {2}- \(document\): cannot be read \(ENOENT\)/,
    );
  });
});
