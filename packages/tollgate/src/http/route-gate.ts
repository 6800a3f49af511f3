import { IdempotencyKeyErrorCode } from '../idempotency/errors.ts';
import { type FingerprintBody, fingerprint } from '../idempotency/fingerprint.ts';
import type { CapturedResponse, ReplayedResponse } from '../idempotency/replay.ts';
import { scopeHash } from '../idempotency/scope.ts';
import type { IdempotencyStore } from '../idempotency/store.ts';
import { rateLimitHeaders } from '../ratelimit/headers.ts';
import type { RateLimiter, RateLimitResult } from '../ratelimit/limiter.ts';
import type { Exchange } from './exchange.ts';
import type { Gate } from './gate.ts';
import { readKey } from './key-source.ts';
import type { StoreName } from './metrics.ts';
import type { IdempotencySettings } from './options.ts';
import { type HttpAnswer, type Problem, ProblemType, problemAnswer } from './problem.ts';

/** What a route's gate is built from (see {@link Gate.route}). */
export interface RouteGateParts {
  readonly preAuth: RateLimiter | undefined;
  readonly postAuth: RateLimiter | undefined;
  readonly operation: RateLimiter | undefined;
  readonly idempotency: IdempotencySettings | undefined;
  readonly cost: number;
}

/** The request as {@link RouteGate.admit} needs it. */
export interface AdmitRequest {
  readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>;
  /** The parsed body (JSON), a string or bytes; undefined without one. */
  readonly body: unknown;
}

/**
 * The protocol of one protected route, written once for both adapters: pre-auth limits, then
 * (once the principal is known) post-auth limits, the idempotency key and the claim, the
 * operation limits; then completing or releasing the claim with the captured response. Every
 * step answers `undefined` to go on, or the {@link HttpAnswer} to send instead.
 */
export class RouteGate<Req> {
  /** The route has pre-auth policies (adapters skip the early hook otherwise). */
  readonly checksBeforeAuth: boolean;
  /** The route has something to do once the principal is known (adapters skip that step otherwise). */
  readonly checksAfterAuth: boolean;

  constructor(
    readonly gate: Gate<Req>,
    private readonly parts: RouteGateParts,
  ) {
    this.checksBeforeAuth = parts.preAuth !== undefined;
    this.checksAfterAuth = parts.postAuth !== undefined || parts.idempotency !== undefined;
  }

  /** The route holds idempotency claims (adapters capture responses only then). */
  get idempotent(): boolean {
    return this.parts.idempotency !== undefined;
  }

  /** Pre-auth policies (global, per-IP), before anything else is known. */
  beforeAuth(exchange: Exchange): Promise<HttpAnswer | undefined> {
    return this.limit(this.parts.preAuth, exchange);
  }

  /** Everything once the principal is in `exchange`: post-auth limits, idempotency, operation limits. */
  async admit(exchange: Exchange, request: AdmitRequest): Promise<HttpAnswer | undefined> {
    const limited = await this.limit(this.parts.postAuth, exchange);
    if (limited) return limited;
    const settings = this.parts.idempotency;
    if (settings === undefined) return undefined;
    const key = readKeyFor(settings, request);
    if (!key.ok) {
      if (key.error.code === IdempotencyKeyErrorCode.Missing && settings.mode === 'optional') {
        return this.limit(this.parts.operation, exchange);
      }
      const type =
        key.error.code === IdempotencyKeyErrorCode.Missing
          ? ProblemType.KeyMissing
          : ProblemType.KeyMalformed;
      await this.peek(exchange);
      return this.problem(exchange, {
        type,
        title: 'Bad Idempotency Key',
        status: 400,
        detail: key.error.message,
      });
    }
    if (settings.claim === 'handler') {
      const { body } = request;
      exchange.begin = async (options = {}) => {
        exchange.begin = undefined;
        const answer = await this.claim(exchange, settings, key.key, body, options.store);
        if (answer) return { status: 'answered', answer };
        return {
          status: 'new',
          claim: exchange.claim!,
          checkpoint: exchange.checkpoint,
          headers: this.headers(exchange),
        };
      };
      return undefined;
    }
    return this.claim(exchange, settings, key.key, request.body);
  }

  /** Completes the claim with the response the handler produced (stored, or released by status). */
  async finish(exchange: Exchange, response: CapturedResponse): Promise<void> {
    const claim = exchange.claim;
    if (claim === undefined) return;
    exchange.claim = undefined;
    try {
      const done = await this.timed('idempotency', 'complete', claim.complete(response));
      if (!done.ok) {
        exchange.log?.warn(
          { decision: 'stale-fence', keyHash: short(claim.scope), route: exchange.route },
          'tollgate: the lease lapsed and another request took the key over; this response was not stored',
        );
      }
    } catch (error) {
      this.storeFault(exchange, 'idempotency', error);
    }
  }

  /** Gives the key back when no response will be captured (the client went away, a stream broke). */
  async abandon(exchange: Exchange): Promise<void> {
    const claim = exchange.claim;
    if (claim === undefined) return;
    exchange.claim = undefined;
    try {
      await this.timed('idempotency', 'release', claim.release());
    } catch (error) {
      this.storeFault(exchange, 'idempotency', error);
    }
  }

  /** The rate-limit headers every response of the route carries (empty when nothing was checked). */
  headers(exchange: Exchange): Record<string, string> {
    return exchange.limits ? rateLimitHeaders(exchange.limits, this.gate.headerOptions) : {};
  }

  private async claim(
    exchange: Exchange,
    settings: IdempotencySettings,
    key: string,
    body: unknown,
    store?: IdempotencyStore,
  ): Promise<HttpAnswer | undefined> {
    const { method, path: route } = exchange;
    const scope = { principal: exchange.principal ?? '', method, route };
    const print = fingerprint({ method, route, body: fingerprintBody(body) }, { exclude: settings.exclude });
    let begun: Awaited<ReturnType<typeof this.gate.engine.begin>>;
    try {
      begun = await this.timed(
        'idempotency',
        'begin',
        this.gate.engine.begin(
          { ...scope, key, fingerprint: print },
          store ? { ...settings.engine, store } : settings.engine,
        ),
      );
    } catch (error) {
      this.storeFault(exchange, 'idempotency', error);
      await this.peek(exchange);
      return this.problem(
        exchange,
        {
          type: ProblemType.IdempotencyUnavailable,
          title: 'Idempotency Store Unavailable',
          status: 503,
          detail:
            'The idempotency store could not be reached; the request was not run. Retry with the same key.',
          retry_after: 1,
        },
        { 'retry-after': '1' },
      );
    }
    if (begun.status === 'new') {
      exchange.claim = begun.claim;
      exchange.checkpoint = begun.checkpoint;
      const limited = await this.limit(this.parts.operation, exchange);
      if (limited) await this.abandon(exchange);
      return limited;
    }
    await this.peek(exchange);
    const outcome =
      begun.status === 'replay' ? 'replay' : begun.status === 'mismatch' ? 'mismatch' : 'conflict';
    this.gate.metrics.idempotency(exchange.route, outcome);
    exchange.log?.info(
      { decision: outcome, keyHash: short(scopeHash(scope, key)), route: exchange.route },
      `tollgate: idempotency ${outcome}`,
    );
    switch (begun.status) {
      case 'replay':
        return this.replay(exchange, begun.response);
      case 'mismatch':
        return this.problem(exchange, {
          type: ProblemType.KeyMismatch,
          title: 'Idempotency Key Reused',
          status: settings.mismatchStatus,
          detail:
            'This idempotency key was already used with a different request. Use a new key for a new request.',
        });
      case 'in-flight':
        return this.problem(
          exchange,
          {
            type: ProblemType.KeyInUse,
            title: 'Request In Progress',
            status: 409,
            detail: `A request with this idempotency key is still running. Retry after ${begun.retryAfter} s.`,
            retry_after: begun.retryAfter,
          },
          { 'retry-after': String(begun.retryAfter) },
        );
    }
  }

  private replay(exchange: Exchange, response: ReplayedResponse): HttpAnswer {
    const headers: Record<string, string> = this.headers(exchange);
    for (const [name, value] of response.headers) {
      headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
    }
    return { status: response.status, headers, body: response.body };
  }

  /** Checks `limiter` for the exchange; the problem answer when an enforcing policy denies. */
  private async limit(limiter: RateLimiter | undefined, exchange: Exchange): Promise<HttpAnswer | undefined> {
    if (limiter === undefined) return undefined;
    const facts = { ip: exchange.ip, principal: exchange.principal, route: exchange.route };
    const result = await this.timed('ratelimit', 'check', limiter.check(facts, { cost: this.parts.cost }));
    exchange.record(result);
    const metrics = this.gate.metrics;
    if (metrics.enabled)
      for (const policy of result.policies) metrics.decision(policy.name, outcomeOf(result, policy));
    return result.allowed ? undefined : this.limited(exchange, result);
  }

  /**
   * Reports the operation policies without consuming them, for an answer that ran nothing (a
   * replay, a conflict, a bad key): the headers tell the truth, and never add a Retry-After.
   */
  private async peek(exchange: Exchange): Promise<void> {
    const limiter = this.parts.operation;
    if (limiter === undefined) return;
    const facts = { ip: exchange.ip, principal: exchange.principal, route: exchange.route };
    const result = await this.timed('ratelimit', 'peek', limiter.peek(facts, { cost: this.parts.cost }));
    exchange.record({ ...result, allowed: true, retryAfterSeconds: 0 });
  }

  private limited(exchange: Exchange, result: RateLimitResult): HttpAnswer {
    const policies = result.policies.filter((policy) => !policy.allowed && !policy.shadow).map((p) => p.name);
    const unavailable = result.reason === 'store-unavailable';
    exchange.log?.info(
      {
        decision: unavailable ? 'store-unavailable' : 'limited',
        policy: policies.join(','),
        route: exchange.route,
      },
      'tollgate: request rejected by rate limit',
    );
    const names = policies.map((name) => `"${name}"`).join(', ');
    const wait = result.retryAfterSeconds;
    return this.problem(exchange, {
      type: unavailable ? ProblemType.RateLimitUnavailable : ProblemType.RateLimited,
      title: unavailable ? 'Rate Limit Unavailable' : 'Too Many Requests',
      status: unavailable ? 503 : 429,
      detail: unavailable
        ? `The rate-limit store could not be reached and ${names} admit nothing without it. Retry after ${wait} s.`
        : `Rate limit exceeded: ${names}. Retry after ${wait} s.`,
      policies,
      retry_after: wait,
    });
  }

  private problem(exchange: Exchange, problem: Problem, extra: Record<string, string> = {}): HttpAnswer {
    return problemAnswer(problem, { ...this.headers(exchange), ...extra });
  }

  /** `work`, timed into the store-call histogram when metrics are on (untouched otherwise). */
  private timed<T>(store: StoreName, operation: string, work: Promise<T>): Promise<T> {
    const metrics = this.gate.metrics;
    if (!metrics.enabled) return work;
    const started = performance.now();
    const observe = () => metrics.storeCall(store, operation, (performance.now() - started) / 1000);
    work.then(observe, observe);
    return work;
  }

  private storeFault(exchange: Exchange, store: StoreName, error: unknown): void {
    this.gate.metrics.storeError(store);
    exchange.log?.warn({ err: error, store, route: exchange.route }, `tollgate: ${store} store failed`);
  }
}

function readKeyFor(settings: IdempotencySettings, request: AdmitRequest) {
  return readKey(settings.key, request.headers, request.body);
}

/** A parsed JSON body is fingerprinted canonically; text and bytes exactly. */
function fingerprintBody(body: unknown): FingerprintBody | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string' || body instanceof Uint8Array) return { bytes: body };
  return { json: body };
}

function outcomeOf(result: RateLimitResult, policy: RateLimitResult['policies'][number]): string {
  if (result.reason === 'store-unavailable') return 'store-unavailable';
  if (policy.allowed) return 'allowed';
  return policy.shadow ? 'shadow-limited' : 'limited';
}

/** A scope hash short enough for a log line and long enough to tell keys apart. */
function short(scope: string): string {
  return scope.slice(0, 16);
}
