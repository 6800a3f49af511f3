import { hash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { type RateLimiter, rateLimitHeaders } from 'tollgate';
import { defineProblems, limitedAnswer, sendProblem } from 'tollgate/fastify';

/** What `Authorization: Bearer <key>` can carry (see `principalOf`): a key that cannot is refused at start. */
const sendable = /^[\x21-\x7e]{1,512}$/;
const unsendable = 'can never be sent: 1–512 visible ASCII characters, no spaces';

/**
 * Bearer keys and whom they name, held only as SHA-256 hashes. A presented key is hashed and
 * compared in constant time with every known hash (no early exit), so neither the match nor
 * its position leaks through timing.
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

  /**
   * From `key:principal,…` (the variable is named in errors, never a key), else `fallback` →
   * `default` (a development key, said so by {@link development}).
   * @throws {Error} for a pair without key or principal, a key no header can carry, a key listed
   * twice (the later principal would win silently: its holder would act as whoever came last),
   * or a list that names no key.
   */
  static parse(variable: string, value: string | undefined, fallback: string): BearerKeys {
    if (!value) return new BearerKeys([[fallback, 'default']], true);
    const pairs = value
      .split(',')
      .map((pair) => pair.trim())
      .filter(Boolean)
      .map((pair) => {
        const at = pair.lastIndexOf(':');
        if (at <= 0 || at === pair.length - 1) throw new Error(`${variable}: expected key:principal pairs`);
        return [pair.slice(0, at), pair.slice(at + 1).trim()] as const;
      });
    if (pairs.length === 0) throw new Error(`${variable} names no key: every request would be refused`);
    const seen = new Set<string>();
    pairs.forEach(([key], index) => {
      if (!sendable.test(key)) throw new Error(`${variable}: pair ${index + 1}'s key ${unsendable}`);
      if (seen.has(key)) throw new Error(`${variable}: pair ${index + 1} repeats the key of an earlier pair`);
      seen.add(key);
    });
    return new BearerKeys(pairs);
  }

  /** One key for `default`, from a variable that holds a single key (`API_KEY`). */
  static single(variable: string, key: string): BearerKeys {
    if (!sendable.test(key)) throw new Error(`${variable}: the key ${unsendable}`);
    return new BearerKeys([[key, 'default']]);
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

declare module 'fastify' {
  interface FastifyRequest {
    /** The caller once authenticated (a user, a worker, a webhook sender). */
    principal: string | undefined;
  }
}

const authProblems = defineProblems({
  'invalid-request': { status: 400, title: 'Invalid Request' },
  unauthorized: { status: 401, title: 'Unauthorized' },
});

/**
 * The route hook that answers 401 problem+json (`WWW-Authenticate: Bearer realm=…`) unless the
 * request carries one `Authorization: Bearer <key>` of `keys`. Two Authorization headers are
 * 400: Node keeps the first, a proxy in front may keep the last, and the two would disagree on
 * who is calling. A request without a valid key pays `failedAuth` (`per-ip`, see
 * {@link refusedForGuessing}); a caller whose key is valid never touches it. Callback style:
 * no promise per accepted request.
 */
export function bearerAuth(keys: BearerKeys, realm: string, failedAuth: RateLimiter) {
  return (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void => {
    const repeated = authorizations(request.raw.rawHeaders) > 1;
    const principal = repeated ? undefined : keys.principalOf(request.headers.authorization);
    if (principal !== undefined) {
      request.principal = principal;
      done();
      return;
    }
    refusedForGuessing(failedAuth, request, reply).then((refused) => {
      if (refused) return;
      if (repeated) {
        return sendProblem(reply, {
          ...authProblems['invalid-request'],
          detail: 'Send one Authorization header, not several.',
          errors: [{ in: 'headers', field: '/authorization', message: 'must appear once' }],
        });
      }
      reply.header('www-authenticate', `Bearer realm="${realm}"`);
      return sendProblem(reply, {
        ...authProblems.unauthorized,
        detail: 'Send a valid key as "Authorization: Bearer <key>".',
      });
    }, done);
  };
}

/**
 * Counts a request that failed authentication against `failedAuth` (per client address), so
 * keys and secrets cannot be guessed at full speed: true when that limit is spent and the 429
 * has been sent; else its rate-limit headers are set for the refusal to follow.
 */
export async function refusedForGuessing(
  failedAuth: RateLimiter,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<boolean> {
  const limits = await failedAuth.check({ ip: request.ip });
  const headers = rateLimitHeaders(limits);
  if (limits.allowed) {
    reply.headers(headers);
    return false;
  }
  const answer = limitedAnswer(limits, headers);
  reply.code(answer.status).headers(answer.headers).send(answer.body);
  return true;
}

/** How many Authorization headers a request has (`rawHeaders`: name, value, name, value…). */
function authorizations(rawHeaders: readonly string[]): number {
  let count = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (rawHeaders[i]!.length === 13 && rawHeaders[i]!.toLowerCase() === 'authorization') count++;
  }
  return count;
}

function sha256(text: string): Buffer {
  return hash('sha256', text, 'buffer');
}
