import { Registry } from 'prom-client';
import { createRetryClient, RetryError } from 'tollgate/client';
import { afterEach, describe, expect, it } from 'vitest';
import { type FaultServer, reply, startFaultServer } from '../../../../testkit/fault-server.ts';

let server: FaultServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('prometheus metrics', () => {
  it('counts attempts, retries by reason, give-ups, delays and breaker state', async () => {
    server = await startFaultServer((_seen, res) => {
      const n = server!.seen.length;
      if (n === 1) return reply(res, 429, {}, { 'retry-after': '0' });
      reply(res, n === 2 ? 200 : 503);
    });
    const registry = new Registry();
    const client = createRetryClient({
      metrics: registry,
      baseDelayMs: 1,
      maxDelayMs: 2,
      maxAttempts: 2,
      budget: false,
    });
    await client.fetch(`${server.url}/x`, { method: 'POST' });
    await expect(client.fetch(`${server.url}/x`)).rejects.toBeInstanceOf(RetryError);

    const value = async (name: string, labels: Record<string, string>, sample = name) => {
      const metric = await registry.getSingleMetric(name)!.get();
      const values = metric.values as {
        value: number;
        labels: Record<string, unknown>;
        metricName?: string;
      }[];
      return values.find(
        (v) =>
          (v.metricName ?? name) === sample && Object.entries(labels).every(([k, l]) => v.labels[k] === l),
      )?.value;
    };
    const host = server.url;
    expect(await value('tollgate_client_attempts_total', { host, method: 'POST', outcome: '429' })).toBe(1);
    expect(await value('tollgate_client_attempts_total', { host, method: 'POST', outcome: '200' })).toBe(1);
    expect(await value('tollgate_client_attempts_total', { host, method: 'GET', outcome: '503' })).toBe(2);
    expect(await value('tollgate_client_retries_total', { host, reason: 'status_429' })).toBe(1);
    expect(await value('tollgate_client_retries_total', { host, reason: 'status_503' })).toBe(1);
    expect(
      await value('tollgate_client_give_ups_total', { host, code: 'ERR_RETRY_ATTEMPTS_EXHAUSTED' }),
    ).toBe(1);
    expect(await value('tollgate_client_breaker_state', { host })).toBe(0);
    const delays = 'tollgate_client_retry_delay_seconds';
    expect(await value(delays, { host }, `${delays}_count`)).toBe(2);
    expect(await value(delays, { host }, `${delays}_sum`)).toBeLessThan(0.01); // seconds, not ms
    expect(await registry.metrics()).toContain('tollgate_client_retry_delay_seconds_bucket');
  });

  it('shares one set of metrics between clients on the same registry', async () => {
    server = await startFaultServer((_seen, res) => reply(res, 200));
    const registry = new Registry();
    await createRetryClient({ metrics: registry }).fetch(`${server.url}/x`);
    await createRetryClient({ metrics: registry }).fetch(`${server.url}/x`);
    const metric = await registry.getSingleMetric('tollgate_client_attempts_total')!.get();
    expect(metric.values[0]!.value).toBe(2);
  });
});
