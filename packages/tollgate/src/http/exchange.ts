import type { Claim } from '../idempotency/claim.ts';
import type { RateLimitResult } from '../ratelimit/limiter.ts';
import type { GateLogger } from './options.ts';

/**
 * One request on its way through a protected route: what the adapters keep between hooks.
 * Handlers reach it as `request.tollgate` (Fastify) or `res.locals.tollgate` (Express), e.g. to
 * `checkpoint` the claim between the phases of a long operation.
 */
export class Exchange {
  /** The authenticated caller, once known. */
  principal: string | undefined;
  /** The decisions so far (pre-auth, post-auth, operation), merged: they give the headers. */
  limits: RateLimitResult | undefined;
  /** The idempotency claim this request holds while its handler runs; completed on send. */
  claim: Claim | undefined;

  constructor(
    readonly method: string,
    /** The route template, e.g. `/payments/:id`. */
    readonly path: string,
    /** The client address. */
    readonly ip: string | undefined,
    readonly log: GateLogger | undefined,
  ) {}

  /** `METHOD /template`: the `route` fact of rate-limit subjects. */
  get route(): string {
    return `${this.method} ${this.path}`;
  }

  /** Adds a decision to the ones before it. */
  record(result: RateLimitResult): void {
    const before = this.limits;
    if (before === undefined) {
      this.limits = result;
      return;
    }
    this.limits = {
      allowed: before.allowed && result.allowed,
      reason: result.allowed ? before.reason : result.reason,
      retryAfterSeconds: Math.max(before.retryAfterSeconds, result.retryAfterSeconds),
      policies: [...before.policies, ...result.policies],
    };
  }
}
