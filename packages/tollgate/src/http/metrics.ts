import type { Registry } from 'prom-client';
import { registered } from '../metrics.ts';

/** Which store a call went to. */
export type StoreName = 'admission' | 'ratelimit' | 'idempotency';

/** What the adapters report. A no-op unless a prom-client registry is given. */
export interface GateMetrics {
  /** False for the no-op: callers skip taking the time. */
  readonly enabled: boolean;
  /** One policy's part in a decision: `allowed`, `limited`, `shadow-limited` or `store-unavailable`. */
  decision(policy: string, outcome: string): void;
  /**
   * An idempotency answer other than a new claim: `replay`, `conflict` (in flight), `mismatch`,
   * or `stale-owner` (a claimant that lost its lease answered with the key's answer instead of its own).
   */
  idempotency(route: string, outcome: 'replay' | 'conflict' | 'mismatch' | 'stale-owner'): void;
  storeError(store: StoreName): void;
  storeCall(store: StoreName, operation: string, seconds: number): void;
}

export const noMetrics: GateMetrics = {
  enabled: false,
  decision() {},
  idempotency() {},
  storeError() {},
  storeCall() {},
};

/**
 * Publishes the adapters' metrics in `registry`. prom-client is an optional peer dependency,
 * loaded here on demand, never at import time. Adapters sharing a registry share metrics.
 */
export function prometheusMetrics(registry: Registry): GateMetrics {
  const decisions = registered.counter(registry, {
    name: 'tollgate_http_decisions_total',
    help: 'Rate-limit decisions per policy and outcome (allowed, limited, shadow-limited, store-unavailable).',
    labelNames: ['policy', 'outcome'],
  });
  const idempotency = registered.counter(registry, {
    name: 'tollgate_http_idempotency_total',
    help: "Idempotent requests not run again, by outcome: replay, conflict (in flight), mismatch; stale-owner: a claimant whose lease lapsed answered with the key's answer.",
    labelNames: ['route', 'outcome'],
  });
  const storeErrors = registered.counter(registry, {
    name: 'tollgate_http_store_errors_total',
    help: 'Store calls that failed or missed their deadline.',
    labelNames: ['store'],
  });
  const storeCalls = registered.histogram(registry, {
    name: 'tollgate_http_store_call_duration_seconds',
    help: 'Duration of store calls made for HTTP requests, in seconds.',
    labelNames: ['store', 'operation'],
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
  });
  return {
    enabled: true,
    decision: (policy, outcome) => decisions.inc({ policy, outcome }),
    idempotency: (route, outcome) => idempotency.inc({ route, outcome }),
    storeError: (store) => storeErrors.inc({ store }),
    storeCall: (store, operation, seconds) => storeCalls.observe({ store, operation }, seconds),
  };
}
