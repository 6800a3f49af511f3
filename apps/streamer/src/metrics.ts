import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';

/**
 * The service's Prometheus metrics: `http_request_duration_seconds`, `stars_moved_total`,
 * `idempotency_records_swept_total`, `telegram_unmatched_payments_total`, the process defaults, and tollgate's own `tollgate_http_*` (published in the same registry).
 */
export class ServiceMetrics {
  readonly registry = new Registry();
  readonly duration: Histogram<'method' | 'route' | 'status_code'>;
  /** Stars moved by kind (credit, vote, withdrawal): one increment per ledger row. */
  readonly stars: Counter<'kind'>;
  /** Telegram payments taken but not credited (kept in `unmatched_payments`), by reason. */
  readonly unmatched: Counter<'reason'>;

  constructor() {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.duration = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request duration in seconds, by method, route template and status.',
      labelNames: ['method', 'route', 'status_code'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    this.stars = new Counter({
      name: 'stars_moved_total',
      help: 'Stars moved through the wallet ledger, by kind (credit, vote, withdrawal).',
      labelNames: ['kind'],
      registers,
    });
    this.unmatched = new Counter({
      name: 'telegram_unmatched_payments_total',
      help: 'Successful Telegram payments the service did not credit (recorded in unmatched_payments for a refund), by reason.',
      labelNames: ['reason'],
      registers,
    });
  }
}
