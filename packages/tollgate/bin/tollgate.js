#!/usr/bin/env node
// The `tollgate` command. A built package runs dist/; in the repository, without a build, the
// TypeScript sources run through tsx (a devDependency of the workspace).
import { existsSync } from 'node:fs';

const built = new URL('../dist/policies/cli.js', import.meta.url);
let cli;
if (existsSync(built)) {
  cli = await import(built.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  cli = await import(new URL('../src/policies/cli.ts', import.meta.url).href);
}
process.exitCode = cli.runCommand(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
});
