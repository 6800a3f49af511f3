import { createHash, timingSafeEqual } from 'node:crypto';
import type { Config } from './config.ts';

/** The key `npm start` accepts when no key is configured, so the README's examples work. */
export const DEVELOPMENT_API_KEY = 'test-api-key';

interface KnownKey {
  readonly hash: Buffer;
  readonly principal: string;
}

/**
 * The API keys the service accepts, held only as SHA-256 hashes. A presented key is hashed and
 * compared in constant time with every known hash (no early exit), so neither the match nor
 * its position leaks through timing.
 */
export class ApiKeys {
  private readonly keys: readonly KnownKey[];

  /** True when no key was configured and the development key is in use. */
  readonly development: boolean;

  constructor(pairs: readonly (readonly [key: string, principal: string])[], development = false) {
    this.keys = pairs.map(([key, principal]) => ({ hash: sha256(key), principal }));
    this.development = development;
  }

  /** From `API_KEYS` (`key:principal,…`), else `API_KEY` (principal `default`), else the development key. */
  static fromConfig(config: Pick<Config, 'API_KEYS' | 'API_KEY'>): ApiKeys {
    if (config.API_KEYS && config.API_KEY) {
      throw new Error('API_KEYS and API_KEY are both set: set one (API_KEY would be ignored)');
    }
    if (config.API_KEYS) {
      const pairs = config.API_KEYS.split(',')
        .map((pair) => pair.trim())
        .filter(Boolean)
        .map((pair) => {
          const at = pair.lastIndexOf(':');
          if (at <= 0 || at === pair.length - 1) throw new Error('API_KEYS: expected key:principal pairs');
          return [pair.slice(0, at), pair.slice(at + 1).trim()] as const;
        });
      if (pairs.length === 0) throw new Error('API_KEYS names no key: every request would be refused');
      // One key for two principals would make the later one win silently: a caller holding it
      // would act as (and read the payments of) whoever came last. Refused, without the key.
      const seen = new Set<string>();
      pairs.forEach(([key], index) => {
        if (!sendable.test(key)) throw new Error(`API_KEYS: pair ${index + 1}'s key ${unsendable}`);
        if (seen.has(key)) throw new Error(`API_KEYS: pair ${index + 1} repeats the key of an earlier pair`);
        seen.add(key);
      });
      return new ApiKeys(pairs);
    }
    if (config.API_KEY) {
      if (!sendable.test(config.API_KEY)) throw new Error(`API_KEY: the key ${unsendable}`);
      return new ApiKeys([[config.API_KEY, 'default']]);
    }
    return new ApiKeys([[DEVELOPMENT_API_KEY, 'default']], true);
  }

  /** The principal of an `Authorization: Bearer <key>` header, or undefined. */
  principalOf(authorization: string | undefined): string | undefined {
    const match = authorization === undefined ? null : /^Bearer ([\x21-\x7e]{1,512})$/i.exec(authorization);
    const hash = sha256(match?.[1] ?? '');
    let principal: string | undefined;
    for (const known of this.keys) {
      if (timingSafeEqual(known.hash, hash) && match !== null) principal = known.principal;
    }
    return principal;
  }
}

/** What `Authorization: Bearer <key>` can carry (see `principalOf`): a key that cannot is refused at start. */
const sendable = /^[\x21-\x7e]{1,512}$/;
const unsendable = 'can never be sent: 1–512 visible ASCII characters, no spaces';

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}
