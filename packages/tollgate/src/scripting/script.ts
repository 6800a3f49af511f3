import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Cluster, Redis } from 'ioredis';
import { coalesceWrites } from './coalesce-writes.ts';

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
    // The named commands, not call('EVALSHA', …): ioredis's auto-pipelining loses the command
    // name of call()/callBuffer() and throws from a timer, taking the process down.
    const client = redis as RedisClient & BufferScripting;
    coalesceWrites(redis);
    try {
      return await (buffers
        ? client.evalshaBuffer(this.sha, keys.length, ...keys, ...args)
        : client.evalsha(this.sha, keys.length, ...keys, ...args));
    } catch (error) {
      if (!isNoScript(error)) throw error;
      return buffers
        ? client.evalBuffer(this.source, keys.length, ...keys, ...args)
        : client.eval(this.source, keys.length, ...keys, ...args);
    }
  }
}

/** ioredis defines a `…Buffer` twin of every command at run time; its types leave these two out. */
interface BufferScripting {
  evalshaBuffer(sha: string, numkeys: number, ...keysAndArgs: (string | number)[]): Promise<unknown>;
  evalBuffer(script: string, numkeys: number, ...keysAndArgs: (string | number)[]): Promise<unknown>;
}

/** Redis error replies begin with their code: `NOSCRIPT No matching script…`. */
function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.split(' ', 1)[0] === 'NOSCRIPT';
}
