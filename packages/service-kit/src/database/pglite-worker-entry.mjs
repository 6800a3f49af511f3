// The PGlite worker's entry, in plain JavaScript: Node 20 does not apply `--import tsx` from a
// Worker's execArgv, so the worker registers tsx itself before loading its TypeScript (on a
// runtime that did apply the loader, the first import succeeds and nothing is registered twice).
try {
  await import('./pglite-worker.ts');
} catch (error) {
  if (error?.code !== 'ERR_UNKNOWN_FILE_EXTENSION') throw error;
  const { register } = await import('tsx/esm/api');
  register();
  // A new specifier: the failed import of the first one stays cached as failed.
  await import('./pglite-worker.ts?registered');
}
