import { CircuitBreaker } from './breaker/circuit-breaker.ts';
import { RetryBudget } from './budget.ts';
import type { ClientMetrics } from './metrics.ts';
import type { ResolvedOptions } from './options.ts';

/** What the client keeps per host (origin): its retry budget and its circuit breaker. */
export interface Host {
  readonly origin: string;
  readonly budget: RetryBudget | undefined;
  readonly breaker: CircuitBreaker | undefined;
}

/** The hosts a client has talked to, each created on first use. */
export class Hosts {
  readonly #byOrigin = new Map<string, Host>();

  constructor(
    private readonly options: ResolvedOptions,
    private readonly metrics: ClientMetrics,
  ) {}

  get(origin: string): Host {
    let host = this.#byOrigin.get(origin);
    if (!host) {
      host = this.#create(origin);
      this.#byOrigin.set(origin, host);
    }
    return host;
  }

  #create(origin: string): Host {
    const { budget, breaker, clock, onBreakerChange } = this.options;
    const circuit =
      breaker === false
        ? undefined
        : new CircuitBreaker(breaker, clock, (from, to) => {
            this.metrics.breaker(origin, to);
            onBreakerChange?.({ host: origin, from, to });
          });
    if (circuit) this.metrics.breaker(origin, 'closed');
    return {
      origin,
      budget: budget === false ? undefined : new RetryBudget(budget, clock),
      breaker: circuit,
    };
  }
}
