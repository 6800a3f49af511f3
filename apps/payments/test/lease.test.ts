import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase } from '../../../testkit/index.ts';
import { newKey, pay, type RunningService, startService } from './service.ts';

/**
 * A processor slower than the idempotency lease must not let a retry take the key over
 * from the request still waiting on it: the claim's lease is kept alive meanwhile.
 */
describe('a processor call longer than the lease', () => {
  let service: RunningService;
  let database: string;

  beforeAll(async () => {
    database = await freshDatabase();
    service = await startService({
      DATABASE_URL: database,
      API_KEYS: 'key-alice:alice',
      PROCESSOR_LATENCY_MS: '900',
      IDEMPOTENCY_LEASE_MS: '300',
    });
  });
  afterAll(() => service?.close());

  it('keeps the claim: a retry meanwhile is told 409, the first request gets its 201', async () => {
    const key = newKey();
    const first = pay(service.url, { key });
    await sleep(550); // well past the 300 ms lease, well before the 900 ms processor
    const meanwhile = await pay(service.url, { key });
    expect(meanwhile.status).toBe(409);
    const answer = await first;
    expect(answer.status).toBe(201);
    const replay = await pay(service.url, { key });
    expect([replay.status, replay.text]).toEqual([201, answer.text]);

    const client = new pg.Client({ connectionString: database });
    await client.connect();
    const { rows } = await client.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM processor_charges c JOIN payments p ON p.downstream_key = c.downstream_key WHERE p.principal = 'alice'",
    );
    await client.end();
    expect(rows[0]!.n).toBe(1);
  });
});
