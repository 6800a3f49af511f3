import { admissionFor } from '../admission/select.ts';
import type { AdmissionStore } from '../admission/store.ts';
import { Deadline } from '../deadline.ts';
import { TollgateError } from '../errors.ts';
import { IdempotencyEngine } from '../idempotency/engine.ts';
import type { IdempotencyStore } from '../idempotency/store.ts';
import { MemoryIdempotencyStore } from '../idempotency/stores/memory.ts';
import type { HeaderOptions } from '../ratelimit/headers.ts';
import { definePolicy } from '../ratelimit/policy.ts';
import type { RateLimitStore } from '../ratelimit/store.ts';
import { MemoryRateLimitStore } from '../ratelimit/stores/memory.ts';
import { type GateMetrics, noMetrics, prometheusMetrics } from './metrics.ts';
import {
  countsOf,
  type GateLogger,
  type HttpPolicyOptions,
  idempotencySettings,
  type TollgateOptions,
  type TollgateRouteOptions,
} from './options.ts';
import { RouteGate, type RoutePolicy } from './route-gate.ts';

/** Default deadline of every admission store call, in milliseconds. */
export const DEFAULT_STORE_TIMEOUT_MS = 100;

/**
 * What both adapters share for one registration: the stores, the admission that decides each
 * request in one step, the engine, the plugin-wide policies and defaults (applied here, once),
 * and the metrics. Each protected route gets a {@link RouteGate} from {@link Gate.route};
 * adapters only move requests and responses.
 */
export class Gate<Req> {
  readonly metrics: GateMetrics;
  readonly principal: (request: Req) => string | undefined | Promise<string | undefined>;
  /** The app identifies callers: a request without a principal is anonymous. */
  readonly identifies: boolean;
  readonly headerOptions: HeaderOptions;
  readonly engine: IdempotencyEngine;
  readonly rateLimitStore: RateLimitStore;
  /** The admission of routes whose keys live in the plugin's store. */
  readonly admission: AdmissionStore;
  private readonly admissions = new Map<IdempotencyStore, AdmissionStore>();
  /** The deadline of every call to a store outside the process. */
  readonly deadline: Deadline;
  private readonly policies: readonly HttpPolicyOptions[];

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
    const { replayHeaders, outcome } = options.idempotency ?? {};
    this.engine = new IdempotencyEngine({
      store: idempotencyStore,
      ...(replayHeaders && { replayHeaders }),
      ...(outcome && { outcome }),
    });
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

  /** The gate of one route: its policies by what they count, and its idempotency settings, built once. */
  route(config: TollgateRouteOptions = {}): RouteGate<Req> {
    const all = [...this.policies, ...(config.policies ?? [])];
    const cost = config.cost ?? 1;
    const defined = all.map((options) => {
      const policy = definePolicy(options);
      if (!Number.isSafeInteger(cost) || cost < 1 || cost > policy.burst) {
        throw new TollgateError(
          'ERR_COST_INVALID',
          `cost ${cost} can never be admitted by policy "${policy.name}" (capacity ${policy.burst})`,
        );
      }
      const shared = !policy.subject.includes('principal') && !policy.subject.includes('ip');
      return { counts: countsOf(options), routePolicy: { policy, shared } satisfies RoutePolicy };
    });
    const names = new Set(defined.map((one) => one.routePolicy.policy.name));
    if (names.size !== defined.length) {
      throw new TollgateError('ERR_POLICY_INVALID', 'policy names must be unique within a route');
    }
    const pick = (counts: 'requests' | 'operations') =>
      defined.filter((one) => one.counts === counts).map((one) => one.routePolicy);
    return new RouteGate(this, {
      requestPolicies: pick('requests'),
      operationPolicies: pick('operations'),
      idempotency: idempotencySettings(this.options.idempotency, config.idempotency),
      cost,
    });
  }
}
