import { createHash } from 'node:crypto';
import { admissionResult, refundedResult } from '../admission/result.ts';
import type { Admission, AdmissionRequest, AdmissionStore, KeyStep } from '../admission/store.ts';
import type { BeginResult } from '../idempotency/engine.ts';
import { IdempotencyKeyErrorCode } from '../idempotency/errors.ts';
import { type FingerprintBody, tryFingerprint } from '../idempotency/fingerprint.ts';
import type { CapturedResponse } from '../idempotency/replay.ts';
import { scopeHash } from '../idempotency/scope.ts';
import type { IdempotencyStore } from '../idempotency/store.ts';
import { rateLimitHeaders } from '../ratelimit/headers.ts';
import { type RateLimitResult, storeUnavailable } from '../ratelimit/limiter.ts';
import { type Policy, type RequestFacts, subjectOf } from '../ratelimit/policy.ts';
import type { Check } from '../ratelimit/store.ts';
import { inFlightAnswer, limitedAnswer, mismatchAnswer, refusingPolicies, replayAnswer } from './answers.ts';
import type { Exchange, KeyedRequest } from './exchange.ts';
import type { Gate } from './gate.ts';
import { readKey } from './key-source.ts';
import type { StoreName } from './metrics.ts';
import type { IdempotencySettings } from './options.ts';
import { type HttpAnswer, type Problem, problem, problemAnswer, problems } from './problem.ts';

/** A policy of a route, with whether every caller shares its counter. */
export interface RoutePolicy {
  readonly policy: Policy;
  /**
   * Keyed by nothing a caller controls (no principal, no IP): a global or per-route counter.
   * A request without a principal never counts against it, so anonymous traffic cannot spend
   * a limit that would lock every caller out.
   */
  readonly shared: boolean;
}

/** What a route's gate is built from (see {@link Gate.route}). */
export interface RouteGateParts {
  /** Policies every request pays, replays and conflicts included. */
  readonly requestPolicies: readonly RoutePolicy[];
  /** Policies only a request that runs the handler pays. */
  readonly operationPolicies: readonly RoutePolicy[];
  readonly idempotency: IdempotencySettings | undefined;
  readonly cost: number;
}

/** The request as {@link RouteGate.admit} needs it. */
export interface AdmitRequest {
  readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>;
  /** The parsed body (JSON), a string or bytes; undefined without one. */
  readonly body: unknown;
  /** The route's path parameters (for `param:` subjects). */
  readonly params?: Readonly<Record<string, string | undefined>>;
}

/**
 * The protocol of one protected route, written once for both adapters. Once the principal is
 * known, ONE admission decides every limit of the request and looks up (or claims) its key:
 * a replay is answered from that same call and spends only request-counting policies; a
 * refused request changes nothing anywhere. The claim is kept alive while the handler runs,
 * and completed or released with the captured response. Every step answers `undefined` to go
 * on, or the {@link HttpAnswer} to send instead.
 */
export class RouteGate<Req> {
  /** The route has something to decide (adapters skip it otherwise). */
  readonly protects: boolean;
  /** The admission of this route's keys (the plugin's, or that of the route's own store). */
  private readonly admissions: AdmissionStore;
  /** The route's lease, TTL and wait, with the engine's defaults under them (built once). */
  private readonly timings: { readonly leaseMs: number; readonly ttlMs: number; readonly waitMs: number };

  constructor(
    readonly gate: Gate<Req>,
    private readonly parts: RouteGateParts,
  ) {
    this.protects =
      parts.requestPolicies.length > 0 ||
      parts.operationPolicies.length > 0 ||
      parts.idempotency !== undefined;
    this.timings = gate.engine.settingsFor(parts.idempotency?.engine);
    this.admissions = gate.admissionOf(parts.idempotency?.engine.store);
  }

  /** The route holds idempotency claims (adapters capture responses only then). */
  get idempotent(): boolean {
    return this.parts.idempotency !== undefined;
  }

  /** Everything, once the principal is in `exchange`: the key, then one admission. */
  async admit(exchange: Exchange, request: AdmitRequest): Promise<HttpAnswer | undefined> {
    const settings = this.parts.idempotency;
    const facts: RequestFacts = {
      ip: exchange.ip,
      principal: exchange.principal,
      route: exchange.route,
      params: request.params,
      body: request.body,
    };
    const anonymous = this.gate.identifies && exchange.principal === undefined;
    const requestChecks = this.checks(this.parts.requestPolicies, facts, anonymous);
    const operationChecks = this.checks(this.parts.operationPolicies, facts, anonymous);
    if (settings === undefined) return this.decide(exchange, { requestChecks, operationChecks });

    const keyed = this.keyOf(exchange, settings, request);
    if ('status' in keyed) return keyed;
    if (keyed.key === undefined) return this.decide(exchange, { requestChecks, operationChecks });
    exchange.keyed = keyed;
    const timings = this.timings;
    const key: KeyStep = {
      scope: keyed.scope,
      fingerprint: keyed.fingerprint,
      leaseMs: timings.leaseMs,
      ttlMs: timings.ttlMs,
      claim: settings.claim === 'adapter',
    };
    const admission = await this.admission(exchange, { requestChecks, operationChecks, key });
    if (!admission.allowed) return this.limited(exchange);
    const outcome = admission.key ?? unknownKey;
    // What the truth may have to give back: the operation units this admission consumed (none
    // when the store faulted and the policies failed open without deciding anything).
    const refund = outcome.status === 'unknown' && admission.verdicts.length > 0 ? operationChecks : [];
    switch (outcome.status) {
      case 'found': {
        const begun = this.gate.engine.answer(outcome.record, keyed.fingerprint);
        // A route in wait mode waits for the claimant in flight, then replays (or runs) as it finds.
        if (begun.status === 'in-flight' && timings.waitMs > 0)
          return this.claim(exchange, settings, keyed, []);
        return this.answered(exchange, settings, begun);
      }
      case 'claimed': {
        const claim = this.gate.engine.held(keyed.scope, outcome.fence, keyed.fingerprint, settings.engine);
        if (settings.claim === 'handler') {
          exchange.begin = async () => {
            exchange.begin = undefined;
            return {
              status: 'new',
              claim: this.hold(exchange, claim),
              checkpoint: outcome.checkpoint,
              headers: this.headers(exchange),
            };
          };
          return undefined;
        }
        this.hold(exchange, claim);
        exchange.checkpoint = outcome.checkpoint;
        return undefined;
      }
      case 'unknown':
        if (settings.claim === 'handler') {
          exchange.begin = async (options = {}) => {
            exchange.begin = undefined;
            const answer = await this.claim(exchange, settings, keyed, refund, options.store);
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
        return this.claim(exchange, settings, keyed, refund);
    }
  }

  /**
   * Completes the claim with the response the handler produced (stored, or released by
   * status). When the claim was lost to another claimant meanwhile (a stalled process), this
   * response must not be the key's answer: the answer to send instead is returned (the
   * winner's stored response, or 409 while it runs).
   */
  async finish(exchange: Exchange, response: CapturedResponse): Promise<HttpAnswer | undefined> {
    const claim = exchange.claim;
    if (claim === undefined) return undefined;
    exchange.claim = undefined;
    try {
      const done = await this.timed('idempotency', 'complete', claim.atHome().complete(response));
      if (done.ok) return undefined;
    } catch (error) {
      this.storeFault(exchange, 'idempotency', error);
      return undefined;
    }
    this.gate.metrics.idempotency(exchange.route, 'stale-owner');
    exchange.log?.warn(
      { decision: 'stale-owner', keyHash: short(claim.scope), route: exchange.route },
      "tollgate: the lease lapsed and another request took the key over; answering with the key's answer instead",
    );
    return this.winnersAnswer(exchange, response);
  }

  /** Gives the key back when no response will be captured (the client went away, a stream broke). */
  async abandon(exchange: Exchange): Promise<void> {
    const claim = exchange.claim;
    if (claim === undefined) return;
    exchange.claim = undefined;
    try {
      await this.timed('idempotency', 'release', claim.atHome().release());
    } catch (error) {
      this.storeFault(exchange, 'idempotency', error);
    }
  }

  /** The headers every response of the route carries: rate limits, and a key the server made. */
  headers(exchange: Exchange): Record<string, string> {
    const headers = exchange.limits ? rateLimitHeaders(exchange.limits, this.gate.headerOptions) : {};
    if (exchange.keyed?.generated) headers['Idempotency-Key'] = exchange.keyed.key!;
    return headers;
  }

  /** The request's checks of `policies`; an anonymous request skips the shared ones. */
  private checks(policies: readonly RoutePolicy[], facts: RequestFacts, anonymous: boolean): Check[] {
    const checks: Check[] = [];
    for (const { policy, shared } of policies) {
      if (anonymous && shared) continue;
      const subject = subjectOf(policy, facts);
      if (subject !== undefined) checks.push({ policy, subject, cost: this.parts.cost });
    }
    return checks;
  }

  /** The key and fingerprint of the request, or the 400 answer for a bad key or body. */
  private keyOf(
    exchange: Exchange,
    settings: IdempotencySettings,
    request: AdmitRequest,
  ): KeyedRequest | HttpAnswer {
    const parsed = readKey(settings.key, request.headers, request.body);
    const missing = !parsed.ok && parsed.error.code === IdempotencyKeyErrorCode.Missing;
    const generate = missing && 'header' in settings.key && settings.key.generate === true;
    if (!parsed.ok && !generate) {
      if (missing && settings.mode === 'optional')
        return { key: undefined, scope: '', fingerprint: '', generated: false };
      const kind = missing ? problems['idempotency-key-missing'] : problems['idempotency-key-malformed'];
      return this.problem(exchange, problem(kind, parsed.error.message));
    }
    const { method, path: route } = exchange;
    const printed = tryFingerprint(
      { method, route, body: fingerprintBody(request.body) },
      { exclude: settings.exclude },
    );
    if (!printed.ok) {
      const { code, message, pointer } = printed.error;
      return this.problem(exchange, problem(problems['invalid-body'], message, { code, pointer }));
    }
    const print = printed.fingerprint;
    // A generated key is the request itself: identical requests of one principal share it.
    const key = parsed.ok ? parsed.key : createHash('sha256').update(print).digest('base64url');
    const scope = scopeHash({ principal: exchange.principal ?? '', method, route }, key);
    return { key, scope, fingerprint: print, generated: !parsed.ok };
  }

  /** One admission: records the decision in the exchange; a fault leaves it to each policy. */
  private async admission(exchange: Exchange, request: AdmissionRequest): Promise<Admission> {
    const store = this.admissions;
    let admission: Admission;
    let result: RateLimitResult;
    try {
      const work = store.admit(request);
      admission = await this.timed(
        'admission',
        'admit',
        store.inProcess ? work : this.gate.deadline.guard(work),
      );
      result = admissionResult(request, admission);
    } catch (error) {
      this.storeFault(exchange, 'admission', error);
      result = storeUnavailable([...request.requestChecks, ...request.operationChecks]);
      // The truth still decides the key when the request claims.
      admission = { allowed: result.allowed, verdicts: [], key: request.key && unknownKey };
    }
    exchange.record(result);
    const metrics = this.gate.metrics;
    if (metrics.enabled) {
      // Peeked operation policies (the key was found) decided nothing.
      const decided =
        admission.key?.status === 'found' ? request.requestChecks.length : result.policies.length;
      for (const policy of result.policies.slice(0, decided))
        metrics.decision(policy.name, outcomeOf(result, policy));
    }
    return admission;
  }

  /** A route or request without a key: the limits alone. */
  private async decide(exchange: Exchange, request: AdmissionRequest): Promise<HttpAnswer | undefined> {
    if (request.requestChecks.length === 0 && request.operationChecks.length === 0) return undefined;
    const admission = await this.admission(exchange, request);
    return admission.allowed ? undefined : this.limited(exchange);
  }

  /** Claims the key in the truth, after an admission that could not see it. */
  private async claim(
    exchange: Exchange,
    settings: IdempotencySettings,
    keyed: KeyedRequest,
    consumed: readonly Check[],
    store?: IdempotencyStore,
  ): Promise<HttpAnswer | undefined> {
    const { method, path: route } = exchange;
    let begun: BeginResult;
    try {
      begun = await this.timed(
        'idempotency',
        'begin',
        this.gate.engine.begin(
          {
            principal: exchange.principal ?? '',
            method,
            route,
            key: keyed.key!,
            fingerprint: keyed.fingerprint,
          },
          store ? { ...settings.engine, store } : settings.engine,
        ),
      );
    } catch (error) {
      this.storeFault(exchange, 'idempotency', error);
      await this.refund(exchange, consumed);
      return this.problem(
        exchange,
        problem(
          problems['idempotency-unavailable'],
          'The idempotency store could not be reached; the request was not run. Retry with the same key.',
          { retry_after: 1 },
        ),
        { 'retry-after': '1' },
      );
    }
    if (begun.status === 'new') {
      this.hold(exchange, begun.claim);
      exchange.checkpoint = begun.checkpoint;
      return undefined;
    }
    // A replay or a conflict the admission could not see: it runs nothing, so it pays no operation quota.
    await this.refund(exchange, consumed);
    return this.answered(exchange, settings, begun);
  }

  /** Keeps `claim`'s lease alive while the handler runs, and makes it the exchange's. */
  private hold(exchange: Exchange, claim: NonNullable<Exchange['claim']>) {
    claim.keepAlive();
    exchange.claim = claim;
    return claim;
  }

  private async refund(exchange: Exchange, checks: readonly Check[]): Promise<void> {
    if (checks.length === 0) return;
    if (exchange.limits) exchange.record(refundedResult(exchange.limits, checks));
    try {
      const work = this.gate.rateLimitStore.refund(checks);
      await (this.gate.rateLimitStore.inProcess ? work : this.gate.deadline.guard(work));
    } catch (error) {
      this.storeFault(exchange, 'ratelimit', error);
    }
  }

  /** The answer for a key that will not run: a replay, a mismatch, or another claimant in flight. */
  private answered(
    exchange: Exchange,
    settings: IdempotencySettings,
    begun: Exclude<BeginResult, { status: 'new' }>,
  ): HttpAnswer {
    const outcome = begun.status === 'in-flight' ? 'conflict' : begun.status;
    this.gate.metrics.idempotency(exchange.route, outcome);
    exchange.log?.info(
      { decision: outcome, keyHash: short(exchange.keyed?.scope ?? ''), route: exchange.route },
      `tollgate: idempotency ${outcome}`,
    );
    const headers = this.headers(exchange);
    switch (begun.status) {
      case 'replay':
        return replayAnswer(begun.response, headers);
      case 'mismatch':
        return mismatchAnswer(settings.mismatchStatus, headers);
      case 'in-flight':
        return inFlightAnswer(begun.retryAfter, headers);
    }
  }

  /** For a stale owner: the key's stored answer, 409 while another claimant runs, or its own if the key came free. */
  private async winnersAnswer(exchange: Exchange, own: CapturedResponse): Promise<HttpAnswer | undefined> {
    const keyed = exchange.keyed;
    const settings = this.parts.idempotency;
    if (keyed?.key === undefined || settings === undefined) return inFlightAnswer(1, this.headers(exchange));
    const { method, path: route } = exchange;
    try {
      const begun = await this.gate.engine.begin(
        {
          principal: exchange.principal ?? '',
          method,
          route,
          key: keyed.key,
          fingerprint: keyed.fingerprint,
        },
        { ...settings.engine, waitMs: 0 },
      );
      if (begun.status !== 'new') return this.answered(exchange, settings, begun);
      // The winner gave the key back: this response is the key's answer after all.
      const done = await begun.claim.complete(own);
      return done.ok ? undefined : inFlightAnswer(1, this.headers(exchange));
    } catch (error) {
      this.storeFault(exchange, 'idempotency', error);
      return inFlightAnswer(1, this.headers(exchange));
    }
  }

  private limited(exchange: Exchange): HttpAnswer {
    const result = exchange.limits!;
    exchange.log?.info(
      {
        decision: result.reason === 'store-unavailable' ? 'store-unavailable' : 'limited',
        policy: refusingPolicies(result).join(','),
        route: exchange.route,
      },
      'tollgate: request rejected by rate limit',
    );
    return limitedAnswer(result, this.headers(exchange));
  }

  private problem(exchange: Exchange, document: Problem, extra: Record<string, string> = {}): HttpAnswer {
    return problemAnswer(document, { ...this.headers(exchange), ...extra });
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

const unknownKey = { status: 'unknown' } as const;

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
