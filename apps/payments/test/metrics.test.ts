/** `payment_success_rate`: of the payments settled, the share that succeeded. */
import { describe, expect, it } from 'vitest';
import { ServiceMetrics } from '../src/metrics.ts';

const rate = async (metrics: ServiceMetrics) =>
  (await metrics.registry.getSingleMetric('payment_success_rate')!.get()).values[0]!.value;

describe('payment_success_rate', () => {
  it('is NaN before any payment settles, not a made-up 100', async () => {
    const metrics = new ServiceMetrics();
    metrics.payments.inc({ outcome: 'failed' });
    metrics.payments.inc({ outcome: 'replayed' });
    expect(await rate(metrics)).toBeNaN();
  });

  it("counts settled payments, the recovery worker's too, and not processor failures that retries settle", async () => {
    const metrics = new ServiceMetrics();
    // Two attempts failed at the processor; one payment was retried and succeeded, the other
    // was finished by the recovery worker; one more was declined.
    metrics.payments.inc({ outcome: 'failed' }, 2);
    metrics.payments.inc({ outcome: 'succeeded' });
    metrics.recovered.inc({ outcome: 'succeeded' });
    metrics.payments.inc({ outcome: 'declined' });
    metrics.payments.inc({ outcome: 'replayed' }, 5);
    metrics.payments.inc({ outcome: 'rejected' }, 3);
    expect(await rate(metrics)).toBeCloseTo((100 * 2) / 3, 10);
  });
});
