/**
 * The README's shell examples, run for real: a section's ```sh blocks that call curl, executed
 * in one bash session (so variables carry over) against a service on a real port, each curl's
 * status collected for the `# → status` written above it.
 */
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

/** The repository's README. */
export const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

/** The text of the README's `## heading` section, up to the next `## `. */
export function readmeSection(heading: string): string {
  const start = readme.indexOf(`## ${heading}`);
  if (start === -1) throw new Error(`the README has no "## ${heading}" section`);
  return readme.slice(start, readme.indexOf('\n## ', start + 5));
}

/** The ```sh blocks of `section` that call curl. */
export function curlBlocks(section: string): string[] {
  return [...section.matchAll(/^```sh\n([\s\S]*?)^```$/gm)]
    .map((match) => match[1]!)
    .filter((code) => code.includes('curl '));
}

/** The statuses the blocks say their curls answer (`# → 201`), and how many curls they hold. */
export function promised(blocks: readonly string[]): { statuses: number[]; curls: number } {
  const statuses = blocks.flatMap((code) => [...code.matchAll(/^# → (\d{3})$/gm)].map((m) => Number(m[1])));
  const curls = blocks.reduce((n, code) => n + (code.match(/(^|\$\(|<\()curl /gm)?.length ?? 0), 0);
  return { statuses, curls };
}

/**
 * Runs `blocks` with `documented` (the README's base URL) replaced by `url`, in a scratch
 * directory `dir`; answers every curl's status, in order, and what the session printed.
 */
export async function runCurlBlocks(
  blocks: readonly string[],
  options: { readonly documented: string; readonly url: string; readonly dir: string },
): Promise<{ statuses: number[]; stdout: string }> {
  const statuses = join(options.dir, 'statuses');
  const script = [
    'set -euo pipefail',
    // Every curl reports its status on stderr, which goes to the statuses file.
    `curl() { command curl -sS -w '%{stderr}%{http_code}\\n' "$@" 2>>${JSON.stringify(statuses)}; echo; }`,
    ...blocks.map((code) => code.replaceAll(options.documented, options.url)),
  ].join('\n');
  writeFileSync(join(options.dir, 'examples.sh'), script);
  const { stdout } = await promisify(execFile)('bash', [join(options.dir, 'examples.sh')], {
    maxBuffer: 1 << 24,
  });
  return { statuses: readFileSync(statuses, 'utf8').trim().split('\n').map(Number), stdout };
}
