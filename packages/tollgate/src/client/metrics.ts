import type { Registry } from 'prom-client';
import { registered } from '../metrics.ts';
import type { BreakerStateName } from './breaker/circuit-breaker.ts';
import type { RetryErrorCode } from './errors.ts';
import type { RetryReason } from './retry-decision.ts';

/** What the retry loop reports. A no-op unless a prom-client registry is given. */
export interface ClientMetrics {
  /** An attempt ended; `outcome` is the status (`"503"`) or the transport error code. */
  attempt(host: string, method: string, outcome: string): void;
  retry(host: string, reason: RetryReason, delayMs: number): void;
  breaker(host: string, state: BreakerStateName): void;
  giveUp(host: string, code: RetryErrorCode): void;
}

/** The value of `tollgate_client_breaker_state`. */
const BREAKER_STATE_VALUE: Record<BreakerStateName, number> = { closed: 0, 'half-open': 1, open: 2 };

export const noMetrics: ClientMetrics = {
  attempt() {},
  retry() {},
  breaker() {},
  giveUp() {},
};

/**
 * Publishes the client's metrics in `registry`. prom-client is an optional peer dependency, so
 * it is loaded here, on demand, never at import time. Clients sharing a registry share metrics.
 */
export function prometheusMetrics(registry: Registry): ClientMetrics {
  const attempts = registered.counter(registry, {
    name: 'tollgate_client_attempts_total',
    help: 'HTTP attempts sent by the retry client, by outcome (status or transport error code).',
    labelNames: ['host', 'method', 'outcome'],
  });
  const retries = registered.counter(registry, {
    name: 'tollgate_client_retries_total',
    help: 'Retries scheduled by the retry client, by reason.',
    labelNames: ['host', 'reason'],
  });
  const giveUps = registered.counter(registry, {
    name: 'tollgate_client_give_ups_total',
    help: 'Logical operations the retry client gave up on, by error code.',
    labelNames: ['host', 'code'],
  });
  const breaker = registered.gauge(registry, {
    name: 'tollgate_client_breaker_state',
    help: 'Circuit breaker state per host: 0 closed, 1 half-open, 2 open.',
    labelNames: ['host'],
  });
  const delay = registered.histogram(registry, {
    name: 'tollgate_client_retry_delay_seconds',
    help: 'Wait before each retry, in seconds.',
    labelNames: ['host'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
  });
  return {
    attempt: (host, method, outcome) => attempts.inc({ host, method, outcome }),
    retry: (host, reason, delayMs) => {
      retries.inc({ host, reason });
      delay.observe({ host }, delayMs / 1000);
    },
    breaker: (host, state) => breaker.set({ host }, BREAKER_STATE_VALUE[state]),
    giveUp: (host, code) => giveUps.inc({ host, code }),
  };
}
