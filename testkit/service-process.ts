import { type ChildProcess, fork } from 'node:child_process';

/** A service as its own process (`node --conditions=tollgate-source --import tsx <main>`). */
export interface ServiceProcess {
  readonly url: string;
  readonly child: ChildProcess;
  /** Resolves with the exit code once the process has ended. */
  readonly exited: Promise<number | null>;
  /** Everything the process logged on stdout so far. */
  logs(): string;
}

/**
 * Starts the service whose entry point is `main` on a free loopback port, with `env` over
 * the test defaults; resolves once it reports its port (over IPC), rejects if it exits first.
 */
export async function spawnService(
  main: string,
  env: Record<string, string | undefined>,
): Promise<ServiceProcess> {
  const child = fork(main, [], {
    execArgv: ['--conditions=tollgate-source', '--import', 'tsx'],
    env: { ...process.env, LOG_LEVEL: 'warn', PORT: '0', HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  const logged: Buffer[] = [];
  child.stdout!.on('data', (chunk: Buffer) => logged.push(chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (message) => resolve((message as { port: number }).port));
    exited.then((code) => reject(new Error(`the service exited (${code}) before it was ready`)));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    child,
    exited,
    logs: () => Buffer.concat(logged).toString('utf8'),
  };
}

/**
 * Runs the service whose entry point is `main` until it exits on its own (a start it must
 * refuse), killing it after 20 s: its exit code, stdout and stderr.
 */
export function runUntilExit(
  main: string,
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = fork(main, [], {
    execArgv: ['--conditions=tollgate-source', '--import', 'tsx'],
    env: { ...process.env, LOG_LEVEL: 'warn', PORT: '0', HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout!.on('data', (chunk: Buffer) => out.push(chunk));
  child.stderr!.on('data', (chunk: Buffer) => err.push(chunk));
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  return new Promise((resolve) =>
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({
        code,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    }),
  );
}
