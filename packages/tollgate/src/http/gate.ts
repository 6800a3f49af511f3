import { IdempotencyEngine } from '../idempotency/engine.ts';
import type { IdempotencyStore } from '../idempotency/store.ts';
import { MemoryIdempotencyStore } from '../idempotency/stores/memory.ts';
import type { HeaderOptions } from '../ratelimit/headers.ts';
import { RateLimiter } from '../ratelimit/limiter.ts';
import { definePolicy, type Policy } from '../ratelimit/policy.ts';
import type { RateLimitStore } from '../ratelimit/store.ts';
import { MemoryRateLimitStore } from '../ratelimit/stores/memory.ts';
import { type GateMetrics, noMetrics, prometheusMetrics } from './metrics.ts';
import {
  type GateLogger,
  type HttpPolicyOptions,
  idempotencySettings,
  type Stage,
  stageOf,
  type TollgateOptions,
  type TollgateRouteOptions,
} from './options.ts';
import { RouteGate } from './route-gate.ts';

/** A policy defined once, with the stage it is checked at. */
interface StagedPolicy {
  readonly policy: Policy;
  readonly stage: Stage;
}

function staged(policies: readonly HttpPolicyOptions[] = []): StagedPolicy[] {
  return policies.map((options) => ({ policy: definePolicy(options), stage: stageOf(options) }));
}

/**
 * What both adapters share for one registration: the stores, the engine, the plugin-wide
 * policies and defaults (applied here, once), and the metrics. Each protected route gets a
 * {@link RouteGate} from {@link Gate.route}; adapters only move requests and responses.
 */
export class Gate<Req> {
  readonly metrics: GateMetrics;
  readonly principal: (request: Req) => string | undefined | Promise<string | undefined>;
  readonly headerOptions: HeaderOptions;
  readonly engine: IdempotencyEngine;
  private readonly rateLimitStore: RateLimitStore;
  private readonly policies: readonly StagedPolicy[];

  constructor(
    private readonly options: TollgateOptions<Req>,
    /** Where store faults are logged (requests log through their own logger). */
    readonly logger?: GateLogger,
  ) {
    this.metrics = options.metrics ? prometheusMetrics(options.metrics) : noMetrics;
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
    this.policies = staged(options.policies);
  }

  /** The gate of one route: its limiters per stage and its idempotency settings, built once. */
  route(config: TollgateRouteOptions = {}): RouteGate<Req> {
    const all = [...this.policies, ...staged(config.policies)];
    const limiter = (...stages: Stage[]) => {
      const policies = all.filter((one) => stages.includes(one.stage)).map((one) => one.policy);
      if (policies.length === 0) return undefined;
      return new RateLimiter({
        store: this.rateLimitStore,
        policies,
        storeTimeoutMs: this.options.storeTimeoutMs ?? 100,
        onStoreError: (error) => {
          this.metrics.storeError('ratelimit');
          this.logger?.warn({ err: error, store: 'ratelimit' }, 'tollgate: rate-limit store failed');
        },
      });
    };
    const idempotency = idempotencySettings(this.options.idempotency, config.idempotency);
    // Without idempotency there is nothing between the two post-auth checks: one round trip.
    const merged = idempotency === undefined;
    return new RouteGate(this, {
      preAuth: limiter('pre-auth'),
      postAuth: merged ? limiter('post-auth', 'operation') : limiter('post-auth'),
      operation: merged ? undefined : limiter('operation'),
      idempotency,
      cost: config.cost ?? 1,
    });
  }
}
