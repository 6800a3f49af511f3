/**
 * Store-call deadlines: a call the store answered while the event loop was busy past the
 * deadline is taken, not refused as late (the reply is read after the timers fire in that
 * turn); a call the store never answers is refused at the deadline. Against a real Redis.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisUrl } from '../../../testkit/index.ts';
import { Deadline, StoreTimeoutError } from '../src/deadline.ts';

/** Holds the event loop (no timer, no I/O callback runs) for `ms`. */
function block(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

describe('Deadline', () => {
  let redis: Redis;
  beforeAll(async () => {
    redis = new Redis(redisUrl());
    await redis.ping();
  });
  afterAll(() => redis.disconnect());

  it('takes replies that arrived while the event loop was held past the deadline', async () => {
    const deadline = new Deadline(20);
    const calls = Array.from({ length: 20 }, (_, i) => deadline.guard(redis.echo(`n${i}`)));
    block(100); // Redis answers meanwhile; the deadline passes
    expect(await Promise.all(calls)).toEqual(Array.from({ length: 20 }, (_, i) => `n${i}`));
  });

  it('refuses a call the store does not answer in time', async () => {
    const deadline = new Deadline(50);
    const started = performance.now();
    await expect(deadline.guard(new Promise(() => undefined))).rejects.toBeInstanceOf(StoreTimeoutError);
    expect(performance.now() - started).toBeGreaterThanOrEqual(49);
  });
});
