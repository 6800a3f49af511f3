import { admissionFor } from '../admission/select.ts';
import type { AdmissionStore } from '../admission/store.ts';
import { ErrorCode } from '../codes.ts';
import { DEFAULT_STORE_TIMEOUT_MS, Deadline } from '../deadline.ts';
import { TollgateError } from '../errors.ts';
import { IdempotencyEngine } from '../idempotency/engine.ts';
import type { IdempotencyStore } from '../idempotency/store.ts';
import { MemoryIdempotencyStore } from '../idempotency/stores/memory.ts';
import { type HeaderOptions, rateLimitHeaders } from '../ratelimit/headers.ts';
import { DEFAULT_COST, definePolicy, type Policy } from '../ratelimit/policy.ts';
import type { RateLimitStore } from '../ratelimit/store.ts';
import { MemoryRateLimitStore } from '../ratelimit/stores/memory.ts';
import type { Exchange } from './exchange.ts';
import { type GateMetrics, noMetrics, prometheusMetrics, type StoreName } from './metrics.ts';
import {
  countsOf,
  type GateLogger,
  type IdempotencySettings,
  idempotencySettings,
  type RoutePolicyOptions,
  type TollgateOptions,
  type TollgateRouteOptions,
} from './options.ts';

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

/** What a route's gate is built from (see {@link Gate.partsOf}). */
export interface RouteGateParts {
  /** Policies every request pays, replays and conflicts included. */
  readonly requestPolicies: readonly RoutePolicy[];
  /** Policies only a request that runs the handler pays. */
  readonly operationPolicies: readonly RoutePolicy[];
  readonly idempotency: IdempotencySettings | undefined;
  readonly cost: number;
}

/**
 * What both adapters share for one registration: the stores, the admission that decides each
 * request in one step, the engine, the plugin-wide policies and defaults (applied here, once),
 * the metrics, and the bookkeeping of every store call. Each protected route gets a `RouteGate`
 * built from {@link Gate.partsOf}; adapters only move requests and responses.
 */
export class Gate<Req> {
  readonly metrics: GateMetrics;
  readonly principal: (request: Req) => string | undefined | Promise<string | undefined>;
  /** The app identifies callers: a request without a principal is anonymous. */
  readonly identifies: boolean;
  readonly headerOptions: HeaderOptions;
  /** The engine, holding the plugin's idempotency defaults (claim timings, replay headers, outcome). */
  readonly engine: IdempotencyEngine;
  readonly rateLimitStore: RateLimitStore;
  /** The admission of routes whose keys live in the plugin's store. */
  readonly admission: AdmissionStore;
  private readonly admissions = new Map<IdempotencyStore, AdmissionStore>();
  /** The deadline of every call to a store outside the process. */
  readonly deadline: Deadline;
  private readonly policies: readonly RoutePolicyOptions[];

  constructor(
    private readonly options: TollgateOptions<Req>,
    /** Where store faults are logged (requests log through their own logger). */
    readonly logger?: GateLogger,
  ) {
    this.metrics = options.metrics ? prometheusMetrics(options.metrics) : noMetrics;
    this.identifies = options.principal !== undefined;
    this.principal = options.principal ?? (() => undefined);
    this.headerOptions = options.headers ?? {};
    this.rateLimitStore = options.rateLimitStore ?? new MemoryRateLimitStore();
    const idempotencyStore: IdempotencyStore = options.idempotencyStore ?? new MemoryIdempotencyStore();
    // A route's own claim timings go over these in the engine, the one place defaults are applied.
    this.engine = new IdempotencyEngine({ ...options.idempotency, store: idempotencyStore });
    this.admission = admissionFor(this.rateLimitStore, idempotencyStore);
    this.admissions.set(idempotencyStore, this.admission);
    this.deadline = new Deadline(options.storeTimeoutMs ?? DEFAULT_STORE_TIMEOUT_MS);
    this.policies = options.policies ?? [];
  }

  /** The admission of routes whose keys live in `store` (one per store, built once). */
  admissionOf(store: IdempotencyStore | undefined): AdmissionStore {
    if (store === undefined) return this.admission;
    let admission = this.admissions.get(store);
    if (admission === undefined) {
      admission = admissionFor(this.rateLimitStore, store);
      this.admissions.set(store, admission);
    }
    return admission;
  }

  /** What one route's gate is built from: its policies by what they count, and its idempotency settings. */
  partsOf(config: TollgateRouteOptions = {}): RouteGateParts {
    const all = [...this.policies, ...(config.policies ?? [])];
    const cost = config.cost ?? DEFAULT_COST;
    const defined = all.map((options) => {
      const policy = definePolicy(options);
      if (!Number.isSafeInteger(cost) || cost < 1 || cost > policy.burst) {
        throw new TollgateError(
          ErrorCode.CostInvalid,
          `cost ${cost} can never be admitted by policy "${policy.name}" (capacity ${policy.burst})`,
        );
      }
      const shared = !policy.subject.includes('principal') && !policy.subject.includes('ip');
      return { counts: countsOf(options), routePolicy: { policy, shared } satisfies RoutePolicy };
    });
    const names = new Set(defined.map((one) => one.routePolicy.policy.name));
    if (names.size !== defined.length) {
      throw new TollgateError(ErrorCode.PolicyInvalid, 'policy names must be unique within a route');
    }
    const pick = (counts: 'requests' | 'operations') =>
      defined.filter((one) => one.counts === counts).map((one) => one.routePolicy);
    return {
      requestPolicies: pick('requests'),
      operationPolicies: pick('operations'),
      idempotency: idempotencySettings(this.options.idempotency, config.idempotency),
      cost,
    };
  }

  /** The headers every response of a protected route carries: rate limits, and a key the server made. */
  headers(exchange: Exchange): Record<string, string> {
    const headers = exchange.limits ? rateLimitHeaders(exchange.limits, this.headerOptions) : {};
    if (exchange.keyed?.generated) headers['Idempotency-Key'] = exchange.keyed.key!;
    return headers;
  }

  /** `work`, timed into the store-call histogram when metrics are on (untouched otherwise). */
  timed<T>(store: StoreName, operation: string, work: Promise<T>): Promise<T> {
    const metrics = this.metrics;
    if (!metrics.enabled) return work;
    const started = performance.now();
    const observe = () => metrics.storeCall(store, operation, (performance.now() - started) / 1000);
    work.then(observe, observe);
    return work;
  }

  /** A store call of `exchange` failed: counted, and logged on the request's logger. */
  storeFault(exchange: Exchange, store: StoreName, error: unknown): void {
    this.metrics.storeError(store);
    exchange.log?.warn({ err: error, store, route: exchange.route }, `tollgate: ${store} store failed`);
  }
}
