import type { FastifyInstance } from 'fastify';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** The outcome of one `POST /api/v1/payments` for `payment_requests_total`. */
export type PaymentOutcome = 'succeeded' | 'declined' | 'failed' | 'replayed' | 'rejected';

/**
 * The service's Prometheus metrics, with the seed's names: `payment_requests_total`,
 * `payment_success_rate`, `rate_limit_exceeded_total`, `idempotent_replays_total`,
 * `concurrent_conflicts_total`, plus `http_request_duration_seconds`, the process defaults and
 * tollgate's own `tollgate_http_*` (the adapter publishes them in the same registry).
 */
export class ServiceMetrics {
  readonly registry = new Registry();
  readonly payments: Counter<'outcome'>;
  readonly rateLimited: Counter<'route'>;
  readonly replays: Counter<'route'>;
  readonly conflicts: Counter<'route'>;
  readonly duration: Histogram<'method' | 'route' | 'status_code'>;
  readonly recovered: Counter<'outcome'>;

  constructor() {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.payments = new Counter({
      name: 'payment_requests_total',
      help: 'Payment requests by outcome: succeeded, declined, failed (processor), replayed, rejected (4xx).',
      labelNames: ['outcome'],
      registers,
    });
    const payments = this.payments;
    const recovered = () => this.recovered;
    new Gauge({
      name: 'payment_success_rate',
      help: 'Percentage of the payments this process settled (answered, or finished by the recovery worker) that succeeded rather than were declined, since start; NaN before the first. Processor failures are not outcomes: their retries settle them (payment_requests_total{outcome="failed"} counts them).',
      registers,
      async collect() {
        const count = async (counter: Counter<'outcome'>, outcome: string) =>
          (await counter.get()).values.find((v) => v.labels.outcome === outcome)?.value ?? 0;
        const succeeded = (await count(payments, 'succeeded')) + (await count(recovered(), 'succeeded'));
        const declined = (await count(payments, 'declined')) + (await count(recovered(), 'declined'));
        const settled = succeeded + declined;
        this.set(settled === 0 ? Number.NaN : (100 * succeeded) / settled);
      },
    });
    this.rateLimited = new Counter({
      name: 'rate_limit_exceeded_total',
      help: 'Requests answered 429 by a rate limit.',
      labelNames: ['route'],
      registers,
    });
    this.replays = new Counter({
      name: 'idempotent_replays_total',
      help: 'Responses replayed from the idempotency store (Idempotent-Replayed: true).',
      labelNames: ['route'],
      registers,
    });
    this.conflicts = new Counter({
      name: 'concurrent_conflicts_total',
      help: 'Requests answered 409 because the same idempotency key was still in flight.',
      labelNames: ['route'],
      registers,
    });
    this.recovered = new Counter({
      name: 'payments_recovered_total',
      help: 'Payments left pending that the recovery worker settled, by outcome (succeeded, declined).',
      labelNames: ['outcome'],
      registers,
    });
    this.duration = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request duration in seconds, by method, route template and status.',
      labelNames: ['method', 'route', 'status_code'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
  }
}

/**
 * Counts every response of `app` in `metrics`: the public listener's, and the simulation's
 * copies (they are payment requests too: their conflicts, replays and charges are counted).
 */
export function countResponses(app: FastifyInstance, metrics: ServiceMetrics): void {
  // Callback-style: on every request, an async hook costs a promise and a microtask.
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const status = reply.statusCode;
    metrics.duration.observe(
      { method: request.method, route, status_code: status },
      reply.elapsedTime / 1000,
    );
    if (status === 429) metrics.rateLimited.inc({ route });
    const replayed = reply.getHeader('idempotent-replayed') === 'true';
    if (replayed) metrics.replays.inc({ route });
    if (status === 409 && request.method === 'POST') metrics.conflicts.inc({ route });
    if (route === '/api/v1/payments' && request.method === 'POST') {
      // A replay answered by tollgate's admission never reaches the handler that sets `outcome`.
      const outcome = request.outcome ?? (replayed ? 'replayed' : status >= 500 ? 'failed' : 'rejected');
      metrics.payments.inc({ outcome });
    }
    done();
  });
}
