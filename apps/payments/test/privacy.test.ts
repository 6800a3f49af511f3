/**
 * What the service lets out: a client's `X-Request-Id` only in a bounded safe form (else a
 * fresh id, the same one the audit trail records), and no query string values in log lines —
 * an API key passed as `?api_key=` never reaches the log. (`/health` keeping error text to the
 * logs is in outage.test.ts.)
 */
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newKey, pay, type RunningService, scratchDir, startService } from './service.ts';

describe('request ids and logs', () => {
  let service: RunningService;
  const dir = scratchDir();
  const lines: string[] = [];

  beforeAll(async () => {
    const logStream = new Writable({
      write(chunk, _encoding, done) {
        lines.push(...String(chunk).split('\n').filter(Boolean));
        done();
      },
    });
    service = await startService(
      { DATA_DIR: dir.path, API_KEYS: 'key-alice:alice', LOG_LEVEL: 'info' },
      { logStream },
    );
  });
  afterAll(async () => {
    await service?.close();
    dir.dispose();
  });

  const auditRequestIds = async (transactionId: string) =>
    (
      await service.services.database.query<{ request_id: string }>(
        'SELECT request_id FROM audit_logs WHERE transaction_id = $1',
        [transactionId],
      )
    ).map((row) => row.request_id);

  it('keeps a safe X-Request-Id, replaces any other, and audits the id it answers with', async () => {
    const cases: [string, boolean][] = [
      ['trace-abc.123_X', true],
      ['x'.repeat(64), true],
      ['x'.repeat(65), false],
      ['has space', false],
      ['semi;colon', false],
      ['quote"d', false],
      ['ünïcode', false],
    ];
    for (const [given, kept] of cases) {
      const answer = await pay(service.url, { key: newKey(), headers: { 'x-request-id': given } });
      expect(answer.status, given).toBe(201);
      const id = answer.headers.get('x-request-id')!;
      if (kept) expect(id).toBe(given);
      else expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      const recorded = await auditRequestIds(JSON.parse(answer.text).transaction_id);
      expect(recorded.length).toBeGreaterThan(0);
      expect(new Set(recorded)).toEqual(new Set([id]));
    }
  });

  it('gives each copy of a simulation its own request id, derived from the simulation’s', async () => {
    const simulate = async (headers: Record<string, string>) => {
      const response = await fetch(`${service.url}/api/v1/simulate-concurrent?concurrent_count=3`, {
        method: 'POST',
        headers: {
          authorization: 'Bearer key-alice',
          'idempotency-key': newKey(),
          'content-type': 'application/json',
          ...headers,
        },
        body: JSON.stringify({ amount: 3.5, currency: 'USD', payment_method: 'credit_card' }),
      });
      expect(response.status).toBe(200);
      const report = (await response.json()) as { transaction_ids: string[] };
      expect(report.transaction_ids).toHaveLength(1);
      return auditRequestIds(report.transaction_ids[0]!);
    };
    const traced = await simulate({ 'x-request-id': 'sim-trace-7' });
    expect(traced.length).toBeGreaterThan(0);
    for (const id of traced) expect(id).toMatch(/^sim-trace-7\.[1-3]$/);
    // Without one, the simulation's own (a UUID) with the copy's number.
    for (const id of await simulate({}))
      expect(id).toMatch(/^[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}\.[1-3]$/);
  });

  it('answers a flood of /health (open to anyone) with a few database probes, not one each', async () => {
    const database = service.services.database;
    const query = database.query.bind(database);
    let probes = 0;
    // A slow database (300 ms a probe): the requests of the flood overlap its probes.
    database.query = (async (text: string, params?: readonly unknown[]) => {
      if (text === 'SELECT 1') {
        probes++;
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
      return query(text, params);
    }) as typeof database.query;
    try {
      const answers = await Promise.all(Array.from({ length: 50 }, () => fetch(`${service.url}/health`)));
      expect(answers.every((answer) => answer.status === 200)).toBe(true);
      expect(probes).toBeGreaterThan(0);
      expect(probes).toBeLessThan(10); // one each, before
    } finally {
      database.query = query;
    }
  });

  it('never writes a query string value to a log line', async () => {
    const secret = `sk_live_${newKey()}`;
    for (const path of [
      `/health?api_key=${secret}`,
      `/api/v1/audit-logs?api_key=${secret}`,
      `/nowhere?token=${secret}&api_key=${secret}`,
      `/api/v1/payments/txn_1?api_key=${encodeURIComponent(secret)}`,
    ]) {
      const response = await fetch(service.url + path, { headers: { authorization: 'Bearer key-alice' } });
      expect(response.status).toBeLessThan(500);
    }
    const log = lines.join('\n');
    expect(log).toContain('api_key=[redacted]');
    expect(log).not.toContain(secret);
    expect(log).not.toContain('key-alice');
  });
});
