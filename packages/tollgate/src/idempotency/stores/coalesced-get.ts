import type { RedisClient } from '../../scripting/script.ts';

/**
 * Reads keys with one `MGET` for all the reads asked for in the same turn of the event loop,
 * instead of one `GET` (one write and one wake-up of Redis) each: under load, replays share
 * round trips. On Cluster, where one `MGET` cannot span slots, every read is its own `GET`.
 */
export class CoalescedGet {
  private keys: string[] = [];
  private waiters: { resolve: (value: Buffer | null) => void; reject: (error: unknown) => void }[] = [];

  constructor(private readonly redis: RedisClient) {}

  get(key: string): Promise<Buffer | null> {
    if (this.redis.isCluster) return this.redis.getBuffer(key);
    if (this.keys.length === 0) setImmediate(() => this.flush());
    this.keys.push(key);
    return new Promise((resolve, reject) => {
      this.waiters.push({ resolve, reject });
    });
  }

  private flush(): void {
    const { keys, waiters } = this;
    this.keys = [];
    this.waiters = [];
    const reply =
      keys.length === 1 ? this.redis.getBuffer(keys[0]!).then((one) => [one]) : this.redis.mgetBuffer(keys);
    reply.then(
      (values) => {
        for (const [i, waiter] of waiters.entries()) waiter.resolve(values[i] ?? null);
      },
      (error: unknown) => {
        for (const waiter of waiters) waiter.reject(error);
      },
    );
  }
}
