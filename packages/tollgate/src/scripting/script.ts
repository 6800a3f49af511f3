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

  /** Runs the script on `keys` and `args`, answering its reply as ioredis decodes it. */
  run(redis: RedisClient, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
    return this.send(redis, false, keys, args);
  }

  /** As {@link run}, with every string of the reply as a Buffer (for binary values). */
  runBuffer(
    redis: RedisClient,
    keys: readonly string[],
    args: readonly (string | number)[],
  ): Promise<unknown> {
    return this.send(redis, true, keys, args);
  }

  private async send(
    redis: RedisClient,
    buffers: boolean,
    keys: readonly string[],
    args: readonly (string | number)[],
  ): Promise<unknown> {
    const argv = [this.sha, keys.length, ...keys, ...args];
    try {
      return await (buffers ? redis.callBuffer('EVALSHA', argv) : redis.call('EVALSHA', argv));
    } catch (error) {
      if (!isNoScript(error)) throw error;
      argv[0] = this.source;
      return buffers ? redis.callBuffer('EVAL', argv) : redis.call('EVAL', argv);
    }
  }
}

/** Redis error replies begin with their code: `NOSCRIPT No matching script…`. */
function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.split(' ', 1)[0] === 'NOSCRIPT';
}
