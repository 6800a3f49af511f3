import type { Claim } from '../idempotency/claim.ts';
import type { Checkpoint } from '../idempotency/record.ts';
import type { IdempotencyStore } from '../idempotency/store.ts';
import type { RateLimitResult } from '../ratelimit/limiter.ts';
import type { GateLogger } from './options.ts';
import type { HttpAnswer } from './problem.ts';

/** What `exchange.begin` answers on a route whose handler claims (`claim: 'handler'`). */
export type HandlerBegin =
  | {
      /** The key is this request's: run the effect, then complete `claim`. */
      readonly status: 'new';
      readonly claim: Claim;
      /** Where a released or crashed earlier claimant left off, if it recorded a checkpoint. */
      readonly checkpoint: Checkpoint | null;
      /** The rate-limit headers the response should carry. */
      readonly headers: Record<string, string>;
    }
  | {
      /** Nothing to run: send `answer` (a replay, a conflict, a mismatch, a 429 or a 503). */
      readonly status: 'answered';
      readonly answer: HttpAnswer;
    };

/** A request's idempotency key as the gate read it. */
export interface KeyedRequest {
  /** The key; undefined on an optional route when the request has none. */
  readonly key: string | undefined;
  /** The scope hash (principal + method + route + key). */
  readonly scope: string;
  readonly fingerprint: string;
  /** The server derived the key from the request (`KeySource.generate`); it is echoed to the client. */
  readonly generated: boolean;
}

/**
 * One request on its way through a protected route: what the adapters keep between hooks.
 * Handlers reach it as `request.tollgate` (Fastify) or `res.locals.tollgate` (Express), e.g. to
 * `checkpoint` the claim between the phases of a long operation.
 */
export class Exchange {
  /** The authenticated caller, once known. */
  principal: string | undefined;
  /** The admission's decision: it gives the headers. */
  limits: RateLimitResult | undefined;
  /** The request's idempotency key, once read. */
  keyed: KeyedRequest | undefined;
  /** The idempotency claim this request holds while its handler runs; completed on send. */
  claim: Claim | undefined;
  /** The checkpoint the claim resumes from (null for a fresh key), once claimed. */
  checkpoint: Checkpoint | null = null;
  /**
   * On a route with `claim: 'handler'`, once the key is parsed: claims it, through `store`
   * when given (e.g. `postgresStore.within(tx)`), else the adapter's store. Callable once.
   */
  begin: ((options?: { readonly store?: IdempotencyStore }) => Promise<HandlerBegin>) | undefined;
  /** Set while this request is the one of its process deciding or running its key (see `RouteGate.ended`). */
  running: object | undefined;

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

  /** Keeps the admission's decision (its headers go on every response of the request). */
  record(result: RateLimitResult): void {
    this.limits = result;
  }
}
