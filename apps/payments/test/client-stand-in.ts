import type { IncomingMessage, ServerResponse } from 'node:http';
import { seededRandom } from 'tollgate/client';
import { drop, type FaultServer, reply, type Seen, startFaultServer } from '../../../testkit/fault-server.ts';

/**
 * A stand-in for the payments service, so the client's tests script its faults: the routes, minimal
 * idempotency (key → stored response, replayed; 422 on a different body), and a
 * processor that fails at `failureRate`: half the failures are a 500 before any work, half a
 * dropped connection after the payment was created.
 */
export interface PaymentsServer extends FaultServer {
  /** Effects: one entry per payment created, with the key that created it. */
  readonly ledger: { key: string; transactionId: string }[];
}

const API_KEY = 'test-api-key';
const KEY = /^[A-Za-z0-9_-]{16,255}$/;

type Stored = { fingerprint: string; status: number; body: string };

export async function startPaymentsServer(options: {
  failureRate: number;
  seed?: number;
}): Promise<PaymentsServer> {
  const random = seededRandom(options.seed ?? 1);
  const ledger: PaymentsServer['ledger'] = [];
  const byKey = new Map<string, Stored>();
  const payments = new Map<string, Record<string, unknown>>();

  const handle = (seen: Seen, res: ServerResponse, req: IncomingMessage) => {
    const problem = (status: number, title: string) => {
      res.writeHead(status, { 'content-type': 'application/problem+json' });
      res.end(JSON.stringify({ type: 'about:blank', title, status }));
    };
    if (req.headers.authorization !== `Bearer ${API_KEY}`) return problem(401, 'Unauthorized');
    if (seen.method === 'GET' && seen.path.startsWith('/api/v1/payments/')) {
      const payment = payments.get(decodeURIComponent(seen.path.slice('/api/v1/payments/'.length)));
      return payment ? reply(res, 200, payment) : problem(404, 'Payment not found');
    }
    if (seen.method === 'GET' && seen.path === '/api/v1/retry-config') {
      return reply(res, 200, { max_attempts: 3, base_delay_ms: 100, max_delay_ms: 10_000, jitter: 'full' });
    }
    if (seen.method !== 'POST' || seen.path !== '/api/v1/payments') return problem(404, 'Not found');

    const key = seen.key?.replace(/^"(.*)"$/, '$1');
    if (!key || !KEY.test(key)) return problem(400, 'Idempotency-Key missing or malformed');
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(seen.body) as Record<string, unknown>;
    } catch {
      return problem(400, 'Body is not JSON');
    }
    if (typeof body.amount !== 'number' || body.amount <= 0) return problem(400, 'amount must be positive');
    const fingerprint = JSON.stringify(Object.entries(body).sort(([a], [b]) => a.localeCompare(b)));
    const stored = byKey.get(key);
    if (stored) {
      if (stored.fingerprint !== fingerprint)
        return problem(422, 'Idempotency-Key reused with another request');
      res.writeHead(stored.status, { 'content-type': 'application/json', 'idempotent-replayed': 'true' });
      return res.end(stored.body);
    }

    const roll = random();
    if (roll < options.failureRate / 2) return problem(500, 'Processor unavailable');
    const transactionId = `txn_${ledger.length + 1}`;
    const payment = { transaction_id: transactionId, status: 'succeeded', ...body };
    payments.set(transactionId, payment);
    ledger.push({ key, transactionId });
    byKey.set(key, { fingerprint, status: 201, body: JSON.stringify(payment) });
    if (roll < options.failureRate) return drop(req);
    reply(res, 201, payment);
  };

  const server = await startFaultServer(handle);
  return Object.assign(server, { ledger });
}
