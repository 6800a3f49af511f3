#!/usr/bin/env node
// The `tollgate` command. In the repository the TypeScript sources run through tsx (a
// devDependency of the workspace), so the command never runs a stale build; an installed
// package, which ships dist/ only (or a checkout without tsx), runs dist/.
import { existsSync } from 'node:fs';

const source = new URL('../src/policies/cli.ts', import.meta.url);
const built = new URL('../dist/policies/cli.js', import.meta.url);

async function load() {
  if (existsSync(source)) {
    try {
      const { register } = await import('tsx/esm/api');
      register();
      return await import(source.href);
    } catch (error) {
      if (!existsSync(built)) throw error;
    }
  }
  return import(built.href);
}

const cli = await load();
process.exitCode = cli.runCommand(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
});
