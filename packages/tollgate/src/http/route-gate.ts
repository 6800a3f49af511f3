import type { ServerResponse } from 'node:http';
import { admissionResult, refundedResult } from '../admission/result.ts';
import type { Admission, AdmissionRequest, AdmissionStore, KeyOutcome, KeyStep } from '../admission/store.ts';
import type { BeginOptions, BeginResult } from '../idempotency/engine.ts';
import type { EngineSettings } from '../idempotency/options.ts';
import type { CapturedResponse } from '../idempotency/replay.ts';
import { type RateLimitResult, storeUnavailable } from '../ratelimit/limiter.ts';
import { type RequestFacts, subjectOf } from '../ratelimit/policy.ts';
import type { Check } from '../ratelimit/store.ts';
import { limitedAnswer, refusingPolicies } from './answers.ts';
import type { Exchange, KeyedRequest } from './exchange.ts';
import { abandonClaim, finishClaim, keyAnswer } from './finish.ts';
import type { Gate, RouteGateParts, RoutePolicy } from './gate.ts';
import type { IdempotencySettings, TollgateRouteOptions } from './options.ts';
import { type HttpAnswer, type Problem, problem, problemAnswer, problems } from './problem.ts';
import { type AdmitRequest, requestKey } from './request-key.ts';

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
  private readonly parts: RouteGateParts;
  /** The admission of this route's keys (the plugin's, or that of the route's own store). */
  private readonly admissions: AdmissionStore;
  /** The route's claim timings (lease, TTL, wait…) over the plugin's and the defaults (built once). */
  private readonly timings: EngineSettings;
  /**
   * The keys a request of this process is deciding or running, by scope: see {@link admit}.
   * An entry goes when its request ends ({@link ended}), or after a lease at the latest.
   */
  private readonly running = new Map<string, Running>();

  constructor(
    readonly gate: Gate<Req>,
    /** What the route states (`config.tollgate`, or the middleware's argument). */
    config?: TollgateRouteOptions,
  ) {
    const parts = gate.partsOf(config);
    this.parts = parts;
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

  /** The route has policies every request pays (adapters charge refused requests only then). */
  get countsRequests(): boolean {
    return this.parts.requestPolicies.length > 0;
  }

  /** Everything, once the principal is in `exchange`: the key, then one admission. */
  async admit(exchange: Exchange, request: AdmitRequest): Promise<HttpAnswer | undefined> {
    const settings = this.parts.idempotency;
    const facts = factsOf(exchange, request);
    const requestChecks = this.checks(this.parts.requestPolicies, facts);
    const operationChecks = this.checks(this.parts.operationPolicies, facts);
    if (settings === undefined) return this.decide(exchange, { requestChecks, operationChecks });

    const keyed = requestKey(exchange, settings, request);
    if ('status' in keyed) {
      // A missing or malformed key runs nothing, but it is a request: it pays what every request
      // pays, so a caller cannot send them without limit (429 once those are spent).
      const limited = await this.decide(exchange, { requestChecks, operationChecks: [] });
      return limited ?? this.problem(exchange, keyed);
    }
    if (keyed.key === undefined) return this.decide(exchange, { requestChecks, operationChecks });
    exchange.keyed = keyed;
    const timings = this.timings;
    // Copies of one request sent at once (a client retrying too eagerly) would each spend the
    // operation quota until the truth tells them apart — when the key is claimed there, not in
    // the admission — locking the caller's other requests out meanwhile. Within this process the
    // first copy decides: the others (same body) wait for its admission, and if it goes on to
    // run, they are in flight and pay what a conflict pays. (Copies of a replay then replay each
    // on its own; a request with another body is left to the store, which knows the key's; a
    // route that waits for the claimant in flight keeps its wait.)
    if (timings.waitMs > 0) return this.admitKeyed(exchange, settings, keyed, requestChecks, operationChecks);
    const now = timings.clock.now();
    const first = this.running.get(keyed.scope);
    if (first !== undefined && first.until > now) {
      if (first.fingerprint === keyed.fingerprint) {
        const runs = await first.runs;
        if (runs && this.running.get(keyed.scope) === first) {
          const limited = await this.decide(exchange, { requestChecks, operationChecks: [] });
          return limited ?? keyAnswer(this.gate, exchange, settings, inFlight);
        }
      }
      // Not a copy of one running here: it neither waits nor takes the first's place.
      return this.admitKeyed(exchange, settings, keyed, requestChecks, operationChecks);
    }
    let decided!: (runs: boolean) => void;
    const entry: Running = {
      fingerprint: keyed.fingerprint,
      until: now + timings.leaseMs,
      runs: new Promise((resolve) => {
        decided = resolve;
      }),
    };
    this.running.set(keyed.scope, entry);
    exchange.running = entry;
    try {
      const answer = await this.admitKeyed(exchange, settings, keyed, requestChecks, operationChecks);
      decided(answer === undefined);
      // Answered here (a replay, a refusal): this request runs nothing.
      if (answer !== undefined) this.ended(exchange);
      return answer;
    } catch (error) {
      decided(false);
      this.ended(exchange);
      throw error;
    }
  }

  /**
   * Once the admission let the request through: its copies stop waiting on it when `response`
   * closes (sent, or its client gone) — at once if the client hung up during the admission.
   */
  endsWith(exchange: Exchange, response: Pick<ServerResponse, 'closed' | 'once'>): void {
    if (exchange.running === undefined) return;
    if (response.closed) this.ended(exchange);
    else response.once('close', () => this.ended(exchange));
  }

  /** The request is over: copies of it are no longer in flight in this process. */
  private ended(exchange: Exchange): void {
    const entry = exchange.running;
    if (entry === undefined) return;
    exchange.running = undefined;
    const scope = exchange.keyed!.scope;
    if (this.running.get(scope) === entry) this.running.delete(scope);
  }

  private async admitKeyed(
    exchange: Exchange,
    settings: IdempotencySettings,
    keyed: KeyedRequest,
    requestChecks: Check[],
    operationChecks: Check[],
  ): Promise<HttpAnswer | undefined> {
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
    // The store that claims keys in the admission did not answer: asking it for the key again
    // would queue behind the admission's own late claim (released when it comes).
    if (admission.abandoned) return this.unavailable(exchange);
    const outcome = admission.key ?? unknownKey;
    // The operation units this admission consumed (none when the store faulted and the policies
    // failed open without deciding anything): given back when the key turns out to be a replay,
    // a conflict, or the resumption of an operation an earlier attempt paid for.
    const spent = admission.verdicts.length > 0 ? operationChecks : [];
    const refund = outcome.status === 'unknown' ? spent : [];
    switch (outcome.status) {
      case 'found': {
        const begun = this.gate.engine.answer(outcome.record, keyed.fingerprint);
        // A route in wait mode waits for the claimant in flight, then replays (or runs) as it finds.
        if (begun.status === 'in-flight' && timings.waitMs > 0)
          return this.claim(exchange, settings, keyed, []);
        return keyAnswer(this.gate, exchange, settings, begun);
      }
      case 'claimed': {
        if (outcome.checkpoint !== null) await this.refund(exchange, spent);
        const claim = this.gate.engine.held(keyed.scope, outcome.fence, keyed.fingerprint, settings.engine);
        if (settings.claim === 'handler') {
          exchange.begin = async () => {
            exchange.begin = undefined;
            return {
              status: 'new',
              claim: this.hold(exchange, claim),
              checkpoint: outcome.checkpoint,
              headers: this.gate.headers(exchange),
            };
          };
          return undefined;
        }
        this.hold(exchange, claim);
        exchange.checkpoint = outcome.checkpoint;
        return undefined;
      }
      case 'unknown': {
        // The admission read the replay cache and it had nothing: the claim asks the truth only.
        const cacheMissed = outcome.missed === true;
        if (settings.claim === 'handler') {
          exchange.begin = async (options = {}) => {
            exchange.begin = undefined;
            const answer = await this.claim(exchange, settings, keyed, refund, {
              cacheMissed,
              ...(options.store && { store: options.store }),
            });
            if (answer) return { status: 'answered', answer };
            return {
              status: 'new',
              claim: exchange.claim!,
              checkpoint: exchange.checkpoint,
              headers: this.gate.headers(exchange),
            };
          };
          return undefined;
        }
        return this.claim(exchange, settings, keyed, refund, { cacheMissed });
      }
    }
  }

  /**
   * A request refused before its admission (its body or parameters failed validation, an
   * earlier hook answered 4xx) still pays the policies every request pays, so refused
   * requests cannot be sent without limit: the 429 to send instead once they are spent, or
   * `undefined` to send the refusal (with the rate-limit headers).
   */
  refused(exchange: Exchange, request: Omit<AdmitRequest, 'headers'>): Promise<HttpAnswer | undefined> {
    const requestChecks = this.checks(this.parts.requestPolicies, factsOf(exchange, request));
    return this.decide(exchange, { requestChecks, operationChecks: [] });
  }

  /** Completes the claim with the captured response; see {@link finishClaim}. */
  finish(exchange: Exchange, response: CapturedResponse): Promise<HttpAnswer | undefined> {
    return finishClaim(this.gate, this.parts.idempotency, exchange, response);
  }

  /** Gives the key back when no response will be captured (the client went away, a stream broke). */
  abandon(exchange: Exchange): Promise<void> {
    return abandonClaim(this.gate, exchange);
  }

  /** The request's checks of `policies`; an anonymous request skips the shared ones. */
  private checks(policies: readonly RoutePolicy[], facts: RequestFacts): Check[] {
    if (policies.length === 0) return [];
    const anonymous = this.gate.identifies && facts.principal === undefined;
    const checks: Check[] = [];
    for (const { policy, shared } of policies) {
      if (anonymous && shared) continue;
      const subject = subjectOf(policy, facts);
      if (subject !== undefined) checks.push({ policy, subject, cost: this.parts.cost });
    }
    return checks;
  }

  /**
   * One admission: records the decision in the exchange; a fault leaves it to each policy.
   * `abandoned` when the admission was to claim the key and its store did not answer.
   */
  private async admission(
    exchange: Exchange,
    request: AdmissionRequest,
  ): Promise<Admission & { abandoned?: true }> {
    const store = this.admissions;
    let admission: Admission & { abandoned?: true };
    let result: RateLimitResult;
    let work: Promise<Admission> | undefined;
    try {
      work = store.admit(request);
      admission = await this.gate.timed(
        'admission',
        'admit',
        store.inProcess ? work : this.gate.deadline.guard(work),
      );
      result = admissionResult(request, admission);
    } catch (error) {
      this.gate.storeFault(exchange, 'admission', error);
      result = storeUnavailable([...request.requestChecks, ...request.operationChecks]);
      // Out of the process, a call that failed may still have run: its claim is watched for.
      const abandoned = request.key?.claim === true && store.claimsKeys && !store.inProcess;
      if (abandoned && work !== undefined) this.undoLate(work, request);
      // The truth still decides the key when the request claims.
      admission = {
        allowed: result.allowed,
        verdicts: [],
        key: request.key && unknownKey,
        ...(abandoned && { abandoned: true as const }),
      };
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

  /**
   * What an admission this request gave up on does when its store wakes: a key it claimed is
   * released (nobody will run it; left alone it would answer 409 to every retry until its lease
   * ended), and the operation quota it spent is given back.
   */
  private undoLate(work: Promise<Admission>, request: AdmissionRequest): void {
    const settings = this.parts.idempotency;
    const key = request.key;
    if (settings === undefined || key === undefined) return;
    work
      .then(
        async (late) => {
          if (late.key?.status !== 'claimed') return;
          const claim = this.gate.engine.held(key.scope, late.key.fence, key.fingerprint, settings.engine);
          await claim.release();
          if (late.verdicts.length > 0 && request.operationChecks.length > 0) {
            await this.gate.rateLimitStore.refund(request.operationChecks);
          }
        },
        () => undefined, // Failed: counted and logged with the request already.
      )
      .catch((error: unknown) => {
        this.gate.metrics.storeError('idempotency');
        this.gate.logger?.warn(
          { err: error },
          'tollgate: could not release a claim made after its request gave up',
        );
      });
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
    via: Pick<BeginOptions, 'store' | 'cacheMissed'> = {},
  ): Promise<HttpAnswer | undefined> {
    const { method, path: route } = exchange;
    let begun: BeginResult;
    try {
      begun = await this.gate.timed(
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
          via.store || via.cacheMissed ? { ...settings.engine, ...via } : settings.engine,
        ),
      );
    } catch (error) {
      this.gate.storeFault(exchange, 'idempotency', error);
      await this.refund(exchange, consumed);
      return this.unavailable(exchange);
    }
    if (begun.status === 'new') {
      // Resuming where an earlier attempt left off: the same operation, paid for by that attempt.
      if (begun.checkpoint !== null) await this.refund(exchange, consumed);
      this.hold(exchange, begun.claim);
      exchange.checkpoint = begun.checkpoint;
      return undefined;
    }
    // A replay or a conflict the admission could not see: it runs nothing, so it pays no operation quota.
    await this.refund(exchange, consumed);
    return keyAnswer(this.gate, exchange, settings, begun);
  }

  /** Keeps `claim`'s lease alive while the handler runs, and makes it the exchange's. */
  private hold(exchange: Exchange, claim: NonNullable<Exchange['claim']>) {
    claim.keepAlive(undefined, () =>
      exchange.log?.warn(
        { route: exchange.route, maxHoldMs: this.timings.maxHoldMs },
        'tollgate: the handler is still running past maxHoldMs; its lease is no longer renewed, and a retry may take the key over',
      ),
    );
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
      this.gate.storeFault(exchange, 'ratelimit', error);
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
    return limitedAnswer(result, this.gate.headers(exchange));
  }

  /** 503: the key could not be decided; nothing ran. */
  private unavailable(exchange: Exchange): HttpAnswer {
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

  private problem(exchange: Exchange, document: Problem, extra: Record<string, string> = {}): HttpAnswer {
    return problemAnswer(document, { ...this.gate.headers(exchange), ...extra });
  }
}

const unknownKey: KeyOutcome = { status: 'unknown' };

/** What a copy of a request this process is running answers: 409, retry in a second. */
const inFlight = { status: 'in-flight', retryAfterSeconds: 1 } as const;

/** A key a request of this process is deciding or running. */
interface Running {
  readonly fingerprint: string;
  /** When the entry lapses even if its request never ends (a lease after its admission). */
  readonly until: number;
  /** Whether the request goes on to run (claimed, or left to its handler to claim), once its admission is done. */
  readonly runs: Promise<boolean>;
}

/** What the request's rate-limit subjects are built from. */
function factsOf(exchange: Exchange, request: Omit<AdmitRequest, 'headers'>): RequestFacts {
  return {
    ip: exchange.ip,
    principal: exchange.principal,
    route: exchange.route,
    params: request.params,
    body: request.body,
  };
}

function outcomeOf(result: RateLimitResult, policy: RateLimitResult['policies'][number]): string {
  if (result.reason === 'store-unavailable') return 'store-unavailable';
  if (policy.allowed) return 'allowed';
  return policy.shadow ? 'shadow-limited' : 'limited';
}
