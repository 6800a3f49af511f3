import { createHash, timingSafeEqual } from 'node:crypto';

/** The user key the service accepts when `API_KEYS` is unset, so the README's examples work. */
export const DEVELOPMENT_API_KEY = 'test-api-key';
/** The worker key accepted when `WORKER_KEYS` is unset. */
export const DEVELOPMENT_WORKER_KEY = 'test-worker-key';
/** The Telegram webhook secret accepted when `TELEGRAM_WEBHOOK_SECRET` is unset. */
export const DEVELOPMENT_TELEGRAM_SECRET = 'test-telegram-secret';

/**
 * Bearer keys and whom they name, held only as SHA-256 hashes. A presented key is hashed and
 * compared in constant time with every known hash, with no early exit.
 */
export class BearerKeys {
  private readonly keys: readonly { readonly hash: Buffer; readonly principal: string }[];

  constructor(
    pairs: readonly (readonly [key: string, principal: string])[],
    /** True when nothing was configured and the development key is in use. */
    readonly development = false,
  ) {
    this.keys = pairs.map(([key, principal]) => ({ hash: sha256(key), principal }));
  }

  /** From `key:principal,…` (the variable is named in errors), else `fallback` → `default`. */
  static parse(variable: string, value: string | undefined, fallback: string): BearerKeys {
    if (!value) return new BearerKeys([[fallback, 'default']], true);
    const pairs = value
      .split(',')
      .map((pair) => pair.trim())
      .filter(Boolean)
      .map((pair) => {
        const at = pair.lastIndexOf(':');
        if (at <= 0 || at === pair.length - 1) throw new Error(`${variable}: expected key:id pairs`);
        return [pair.slice(0, at), pair.slice(at + 1).trim()] as const;
      });
    if (pairs.length === 0) throw new Error(`${variable} names no key: every request would be refused`);
    // One key naming two ids would make the later one win silently. Refused, without the key.
    const seen = new Set<string>();
    pairs.forEach(([key], index) => {
      if (!/^[\x21-\x7e]{1,512}$/.test(key))
        throw new Error(
          `${variable}: pair ${index + 1}'s key can never be sent: 1–512 visible ASCII characters, no spaces`,
        );
      if (seen.has(key)) throw new Error(`${variable}: pair ${index + 1} repeats the key of an earlier pair`);
      seen.add(key);
    });
    return new BearerKeys(pairs);
  }

  /** Whom an `Authorization: Bearer <key>` header names, or undefined. */
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

/** A shared secret (Telegram's `secret_token`), compared in constant time by its hash. */
export class SharedSecret {
  private readonly hash: Buffer;

  constructor(
    secret: string,
    /** True when nothing was configured and the development secret is in use. */
    readonly development = false,
  ) {
    this.hash = sha256(secret);
  }

  matches(presented: string | string[] | undefined): boolean {
    const given = typeof presented === 'string' ? presented : '';
    return timingSafeEqual(this.hash, sha256(given)) && given !== '';
  }
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}
