import type { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisUrl } from '../../../../testkit/index.ts';
import { RedisScript } from '../../src/scripting/script.ts';

/** A script touching no key: it answers its argument, so each reply names its command. */
const echo = new RedisScript('echo.lua', 'return ARGV[1]');

/** Counts the socket writes `redis` makes from now on (one `_write` or `_writev` = one syscall). */
function countWrites(redis: Redis): { readonly count: () => number; readonly chunks: () => number } {
  const stream = (redis as unknown as { stream: Writable & Record<string, unknown> }).stream;
  let writes = 0;
  let chunks = 0;
  for (const method of ['_write', '_writev'] as const) {
    const original = (stream[method] as (...args: unknown[]) => unknown).bind(stream);
    stream[method] = (...args: unknown[]) => {
      writes++;
      chunks += method === '_writev' ? (args[0] as unknown[]).length : 1;
      return original(...args);
    };
  }
  return { count: () => writes, chunks: () => chunks };
}

describe('script calls made in one turn of the event loop', () => {
  let redis: Redis;
  beforeAll(async () => {
    redis = new Redis(redisUrl());
    await redis.ping();
    await echo.run(redis, [], ['loaded']); // EVALSHA's NOSCRIPT fallback done once, beforehand
  });
  afterAll(() => redis.disconnect());

  it('reach Redis in one write, each answered with its own reply', async () => {
    const writes = countWrites(redis);
    const replies = await Promise.all(Array.from({ length: 50 }, (_, i) => echo.run(redis, [], [`n${i}`])));
    expect(replies).toEqual(Array.from({ length: 50 }, (_, i) => `n${i}`));
    expect(writes.chunks()).toBe(50);
    expect(writes.count()).toBe(1);
  });

  it('are not held past the turn: a lone call, and a call made from setImmediate, are answered', async () => {
    expect(await echo.run(redis, [], ['alone'])).toBe('alone');
    const fromImmediate = await new Promise((resolve, reject) =>
      setImmediate(() => echo.run(redis, [], ['later']).then(resolve, reject)),
    );
    expect(fromImmediate).toBe('later');
  });

  it('keep working on the new connection after a reconnect', async () => {
    const first = echo.run(redis, [], ['before']);
    await first;
    redis.disconnect(true);
    await new Promise((resolve) => redis.once('ready', resolve));
    const writes = countWrites(redis);
    const replies = await Promise.all(Array.from({ length: 10 }, (_, i) => echo.run(redis, [], [`r${i}`])));
    expect(replies).toEqual(Array.from({ length: 10 }, (_, i) => `r${i}`));
    expect(writes.count()).toBe(1);
  });
});
