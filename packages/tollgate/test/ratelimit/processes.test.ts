import { type ChildProcess, fork } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { keyPrefix, redisClusterNodes, redisUrl } from '../../../../testkit/index.ts';

/** Starts `count` processes, releases them together, and sums what they admitted. */
async function race(target: string, count: number): Promise<number> {
  const prefix = keyPrefix();
  const workers: ChildProcess[] = [];
  const ready: Promise<unknown>[] = [];
  for (let i = 0; i < count; i++) {
    const worker = fork(new URL('./race-worker.ts', import.meta.url), [target, prefix, '4', '120'], {
      execArgv: ['--conditions=tollgate-source', '--import', 'tsx'],
    });
    workers.push(worker);
    ready.push(new Promise((resolve) => worker.once('message', resolve)));
  }
  await Promise.all(ready);
  const done = workers.map(
    (worker) =>
      new Promise<number>((resolve, reject) => {
        worker.once('message', (message: { admitted: number }) => resolve(message.admitted));
        worker.once('exit', (code) => reject(new Error(`worker exited with ${code}`)));
      }),
  );
  for (const worker of workers) worker.send('go');
  return (await Promise.all(done)).reduce((a, b) => a + b, 0);
}

describe('racing processes', () => {
  it('4 processes × 4 connections × 120 requests on single-node Redis admit exactly the burst of 150', async () => {
    expect(await race(redisUrl(), 4)).toBe(150);
  });

  it('the same race on the Redis Cluster, with policies in different slots, admits exactly 150', async () => {
    const nodes = redisClusterNodes()
      .map((node) => `${node.host}:${node.port}`)
      .join(',');
    expect(await race(nodes, 4)).toBe(150);
  });
});
