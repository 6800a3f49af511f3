import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Cluster, Redis } from 'ioredis';

/** A Redis client or a Cluster client: every store accepts either. */
export type RedisClient = Redis | Cluster;

/**
 * A Lua script read once from its `.lua` file and run with EVALSHA, falling back to EVAL
 * only when the server answers with the NOSCRIPT error code (its script cache was flushed
 * or the server restarted); EVAL caches it again for the next call.
 */
export class RedisScript {
  readonly sha: string;

  constructor(
    readonly name: string,
    readonly source: string,
  ) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  /** Loads `file` (e.g. `new URL('./lua/x.lua', import.meta.url)`) once. */
  static fromFile(file: URL): RedisScript {
    return new RedisScript(file.pathname.split('/').pop()!, readFileSync(file, 'utf8'));
  }

  async run(
    redis: RedisClient,
    keys: readonly string[],
    args: readonly (string | number)[],
  ): Promise<unknown> {
    try {
      return await redis.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!isNoScript(error)) throw error;
      return redis.eval(this.source, keys.length, ...keys, ...args);
    }
  }

  /** As {@link run}, with every string of the reply as a Buffer (for binary values). */
  async runBuffer(
    redis: RedisClient,
    keys: readonly string[],
    args: readonly (string | number)[],
  ): Promise<unknown> {
    try {
      return await redis.callBuffer('EVALSHA', [this.sha, keys.length, ...keys, ...args]);
    } catch (error) {
      if (!isNoScript(error)) throw error;
      return redis.callBuffer('EVAL', [this.source, keys.length, ...keys, ...args]);
    }
  }
}

/** Redis error replies begin with their code: `NOSCRIPT No matching script…`. */
function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.split(' ', 1)[0] === 'NOSCRIPT';
}
