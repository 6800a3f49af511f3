import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const src = resolve(dirname(fileURLToPath(import.meta.url)), '../src');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

/** Relative imports of a file that exist at run time (type-only imports cannot form a load circle, but they still read as one, so they count). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const found = [...text.matchAll(/(?:import|export)[^'";]*?from\s+'(\.{1,2}\/[^']+)'/g)];
  return found.map((match) => resolve(dirname(file), match[1] as string));
}

describe('the source tree', () => {
  const files = sources(src);
  const graph = new Map(files.map((file) => [file, importsOf(file)]));

  it('has no import circles', () => {
    const circles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const visit = (file: string, path: string[]) => {
      if (state.get(file) === 'done') return;
      if (state.get(file) === 'open') {
        const circle = path.slice(path.indexOf(file)).concat(file);
        circles.push(circle.map((f) => relative(src, f)).join(' → '));
        return;
      }
      state.set(file, 'open');
      for (const next of graph.get(file) ?? []) visit(next, [...path, file]);
      state.set(file, 'done');
    };
    for (const file of files) visit(file, []);
    expect(circles).toEqual([]);
  });

  it('imports only files that exist', () => {
    const missing = [...graph].flatMap(([file, imports]) =>
      imports
        .filter((target) => !graph.has(target))
        .map((target) => `${relative(src, file)} → ${relative(src, target)}`),
    );
    expect(missing).toEqual([]);
  });

  it("has no file beside a folder of the same name, unless it is that folder's entry point", () => {
    // `client.ts` beside `client/` is the subpath `tollgate/client`, re-exporting that folder
    // (and the library-wide files at the top of src/, like clock.ts); any other file of a
    // folder's name reads as part of that folder and is not.
    const echoes = files.filter((file) => {
      const folder = file.replace(/\.ts$/, '');
      if (!statSync(folder, { throwIfNoEntry: false })?.isDirectory()) return false;
      const imports = graph.get(file) ?? [];
      const ownFolder = imports.filter((target) => target.startsWith(`${folder}/`));
      const elsewhere = imports.filter(
        (target) => !target.startsWith(`${folder}/`) && dirname(target) !== src,
      );
      return ownFolder.length === 0 || elsewhere.length > 0;
    });
    expect(echoes.map((file) => relative(src, file))).toEqual([]);
  });
});
