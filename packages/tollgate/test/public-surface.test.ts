/**
 * The README's "Public surface" section lists, per entry point, every name the package
 * exports there — no more, no fewer — so the documented API and the real one cannot drift.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
const packageRoot = resolve(here, '..');
const manifest = JSON.parse(readFileSync(resolve(packageRoot, 'package.json'), 'utf8')) as {
  exports: Record<string, { 'tollgate-source': string }>;
};
const readme = readFileSync(resolve(packageRoot, '../../README.md'), 'utf8');

/** The names a module exports, following `export * from` (type and value names alike). */
function exportedNames(file: string): Set<string> {
  const text = readFileSync(file, 'utf8');
  const names = new Set<string>();
  for (const [, list] of text.matchAll(/export\s+(?:type\s+)?\{([^}]*)\}/g)) {
    for (const item of (list as string).split(',')) {
      const name = item
        .trim()
        .replace(/^type\s+/, '')
        .split(/\s+as\s+/)
        .pop();
      if (name) names.add(name);
    }
  }
  for (const [, name] of text.matchAll(
    /^export\s+(?:declare\s+)?(?:abstract\s+)?(?:const|let|function|class|interface|type|enum)\s+([A-Za-z_$][\w$]*)/gm,
  ))
    names.add(name as string);
  for (const [, target] of text.matchAll(/^export\s+\*\s+from\s+'([^']+)'/gm))
    for (const name of exportedNames(resolve(dirname(file), target as string))) names.add(name);
  return names;
}

/** `### \`tollgate/x\`` headings of the README's "Public surface" section and the names in their tables. */
function documented(): Map<string, Set<string>> {
  const section = readme.split(/^## Public surface$/m)[1]?.split(/^## /m)[0] ?? '';
  const entries = new Map<string, Set<string>>();
  for (const part of section.split(/^### /m).slice(1)) {
    const entry = /^`([^`]+)`/.exec(part)?.[1];
    if (!entry) continue;
    const names = [...part.matchAll(/^\|\s*`([^`(<]+)/gm)].map((match) => (match[1] as string).trim());
    entries.set(entry, new Set(names));
  }
  return entries;
}

describe('the public surface', () => {
  const listed = documented();

  it('is listed in the README for every entry point', () => {
    const subpaths = Object.keys(manifest.exports).map((key) =>
      key === '.' ? 'tollgate' : `tollgate/${key.slice(2)}`,
    );
    expect([...listed.keys()].sort()).toEqual(subpaths.sort());
  });

  for (const [key, target] of Object.entries(manifest.exports)) {
    const entry = key === '.' ? 'tollgate' : `tollgate/${key.slice(2)}`;
    it(`of ${entry} is exactly what the README lists`, () => {
      const actual = [...exportedNames(resolve(packageRoot, target['tollgate-source']))].sort();
      expect([...(listed.get(entry) ?? [])].sort()).toEqual(actual.filter((name) => name !== 'default'));
    });
  }
});
