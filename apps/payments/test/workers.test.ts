/**
 * The service's background work: the sweeper deletes expired idempotency records and keeps
 * in-flight ones; the recovery worker settles a payment whose request crashed after the
 * processor charged it and was never retried — with the same downstream key, so one charge.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase } from '../../../testkit/index.ts';
import { newKey, pay, type RunningService, startService } from './service.ts';

/** Polls `check` every 100 ms until it is true or `limitMs` has passed. */
async function eventually(check: () => Promise<boolean>, limitMs = 10_000): Promise<boolean> {
  for (const until = Date.now() + limitMs; Date.now() < until; ) {
    if (await check()) return true;
    await sleep(100);
  }
  return check();
}

describe('background workers', () => {
  let service: RunningService;
  const query = <Row>(text: string, params: unknown[] = []) =>
    service.services.database.query<Row>(text, params);

  beforeAll(async () => {
    service = await startService({
      DATABASE_URL: await freshDatabase(),
      API_KEYS: 'key-alice:alice',
      IDEMPOTENCY_TTL_MS: '1000',
      IDEMPOTENCY_SWEEP_INTERVAL_MS: '200',
      RECOVERY_INTERVAL_MS: '200',
      RECOVERY_AFTER_MS: '500',
    });
  });
  afterAll(() => service?.close());

  it('sweeps expired idempotency records, keeps in-flight ones, and counts what it swept', {
    timeout: 30_000,
  }, async () => {
    const answer = await pay(service.url, { key: newKey() });
    expect(answer.status).toBe(201);
    // An in-flight claim whose record expired but whose lease is alive (a long request).
    await query(
      `INSERT INTO tollgate_idempotency (scope, state, fingerprint, fence, lease_until, expires_at, created_at)
       VALUES ('test-in-flight', 'in-flight', 'f', 1, now() + interval '1 hour', now() - interval '1 second', now())`,
    );
    const completed = async () =>
      Number(
        (
          await query<{ n: string }>(
            "SELECT count(*)::text AS n FROM tollgate_idempotency WHERE state = 'completed'",
          )
        )[0]!.n,
      );
    expect(await completed()).toBe(1);
    expect(await eventually(async () => (await completed()) === 0)).toBe(true);
    const inFlight = await query("SELECT scope FROM tollgate_idempotency WHERE scope = 'test-in-flight'");
    expect(inFlight).toHaveLength(1);
    const metrics = await (await fetch(`${service.url}/metrics`)).text();
    expect(metrics).toMatch(/^idempotency_records_swept_total [1-9]/m);
  });

  it('settles a payment whose request crashed after the charge and was never retried: one charge, audited', {
    timeout: 30_000,
  }, async () => {
    const processor = service.services.processor;
    const charge = processor.charge.bind(processor);
    // The fault: the processor charges, then the request dies before phase 3.
    processor.charge = async (request) => {
      processor.charge = charge;
      await charge(request);
      throw new Error('crashed after the processor call');
    };
    const crashed = await pay(service.url, { key: newKey() });
    expect(crashed.status).toBe(500);
    const [pending] = await query<{ transaction_id: string; downstream_key: string; status: string }>(
      "SELECT transaction_id, downstream_key, status FROM payments WHERE status = 'pending'",
    );
    expect(pending).toBeDefined();
    const charges = () =>
      query<{ charge_id: string }>('SELECT charge_id FROM processor_charges WHERE downstream_key = $1', [
        pending!.downstream_key,
      ]);
    const [first] = await charges();
    expect(first).toBeDefined();

    const status = async () =>
      (
        await query<{ status: string }>('SELECT status FROM payments WHERE transaction_id = $1', [
          pending!.transaction_id,
        ])
      )[0]!.status;
    expect(await eventually(async () => (await status()) !== 'pending')).toBe(true);
    expect(await status()).toBe('succeeded');
    expect(await charges()).toEqual([first]);
    const [settled] = await query<{ processor_charge_id: string }>(
      'SELECT processor_charge_id FROM payments WHERE transaction_id = $1',
      [pending!.transaction_id],
    );
    expect(settled!.processor_charge_id).toBe(first!.charge_id);
    const audit = await query<{ action: string; request_id: string }>(
      'SELECT action, request_id FROM audit_logs WHERE transaction_id = $1 ORDER BY id',
      [pending!.transaction_id],
    );
    expect(audit.map((entry) => entry.action)).toEqual(['payment.created', 'payment.recovered']);
    expect(audit[1]!.request_id).toMatch(/^recovery-[0-9a-f-]{36}$/);
    const read = await fetch(`${service.url}/api/v1/payments/${pending!.transaction_id}`, {
      headers: { authorization: 'Bearer key-alice' },
    });
    expect(((await read.json()) as { status: string }).status).toBe('succeeded');
    expect(await (await fetch(`${service.url}/metrics`)).text()).toMatch(
      /^payments_recovered_total\{outcome="succeeded"\} 1$/m,
    );
  });

  it('answers a request whose payment the recovery worker settled during a slow charge with the payment as stored: one charge', {
    timeout: 30_000,
  }, async () => {
    const processor = service.services.processor;
    const charge = processor.charge.bind(processor);
    let transactionId = '';
    const status = async () =>
      (
        await query<{ status: string }>('SELECT status FROM payments WHERE transaction_id = $1', [
          transactionId,
        ])
      )[0]!.status;
    // The processor charges, then answers only after the recovery worker (which took the
    // payment for abandoned) has settled it: phase 3 finds it settled already.
    processor.charge = async (request) => {
      processor.charge = charge;
      const outcome = await charge(request);
      transactionId = request.idempotencyKey.replace(/^payments:/, '');
      expect(await eventually(async () => (await status()) !== 'pending')).toBe(true);
      // What this request heard differs from what was stored: the answer must be the stored one.
      return { outcome: 'declined', chargeId: outcome.chargeId, declineCode: 'card_declined' };
    };
    const key = newKey();
    const answer = await pay(service.url, { key });
    expect(answer.status).toBe(201);
    const read = await fetch(`${service.url}/api/v1/payments/${transactionId}`, {
      headers: { authorization: 'Bearer key-alice' },
    });
    expect(JSON.parse(answer.text)).toEqual(await read.json());
    expect(JSON.parse(answer.text)).toMatchObject({ transaction_id: transactionId, status: 'succeeded' });
    const charges = await query('SELECT 1 FROM processor_charges WHERE downstream_key = $1', [
      `payments:${transactionId}`,
    ]);
    expect(charges).toHaveLength(1);
    const audit = await query<{ action: string }>(
      'SELECT action FROM audit_logs WHERE transaction_id = $1 ORDER BY id',
      [transactionId],
    );
    expect(audit.map((entry) => entry.action)).toEqual([
      'payment.created',
      'payment.recovered',
      'payment.declined', // what this request heard, audited as it heard it
    ]);
    const replay = await pay(service.url, { key });
    expect([replay.status, replay.headers.get('idempotent-replayed'), replay.text]).toEqual([
      201,
      'true',
      answer.text,
    ]);
  });
});
