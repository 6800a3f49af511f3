import { createRequire } from 'node:module';
import type {
  Counter,
  CounterConfiguration,
  Gauge,
  GaugeConfiguration,
  Histogram,
  HistogramConfiguration,
  Registry,
} from 'prom-client';

/**
 * The metric of that name already in `registry`, or a new one registered there, so that
 * everything sharing a registry shares its metrics. prom-client is an optional peer
 * dependency: it is loaded here, on first use, never when a module is imported.
 */
export const registered = {
  counter: <L extends string>(registry: Registry, config: CounterConfiguration<L>): Counter<L> =>
    (registry.getSingleMetric(config.name) as Counter<L> | undefined) ??
    new (promClient().Counter)({ ...config, registers: [registry] }),
  gauge: <L extends string>(registry: Registry, config: GaugeConfiguration<L>): Gauge<L> =>
    (registry.getSingleMetric(config.name) as Gauge<L> | undefined) ??
    new (promClient().Gauge)({ ...config, registers: [registry] }),
  histogram: <L extends string>(registry: Registry, config: HistogramConfiguration<L>): Histogram<L> =>
    (registry.getSingleMetric(config.name) as Histogram<L> | undefined) ??
    new (promClient().Histogram)({ ...config, registers: [registry] }),
};

function promClient(): typeof import('prom-client') {
  return createRequire(import.meta.url)('prom-client') as typeof import('prom-client');
}
