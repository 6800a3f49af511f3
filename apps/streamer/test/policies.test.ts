/** policies.yaml reads as seed 000's two tables, and governs the routes the service has. */
import { loadPolicies } from 'tollgate/policies';
import { describe, expect, it } from 'vitest';
import { POLICY_FILE } from '../src/policies.ts';

/** Seed 000's rows, as the seed words them (`/work/shared/seeds/000_*.txt`). */
const seedIdempotency = [
  '| `POST /api/votes` | `Idempotency-Key` header | Redis + `votes.idempotency_key` column | 24h | Prevent duplicate votes and ledger debits. Cache final response for retries. |',
  '| `POST /api/payments/stars/createInvoice` | `Idempotency-Key` (optional, generated server-side) | Redis | 1h | Ensures duplicate invoice creation requests reuse existing invoice. |',
  '| `POST /api/wallet/withdraw` | `Idempotency-Key` header | Redis + `wallet_ledger.idempotency_key` | 24h | Guarantees single withdrawal record. |',
  '| `POST /internal/worker/events` | `X-Idempotency-Key` header | Redis + `events` uniqueness `(streamer_id, external_id)` | 24h | Deduplicate worker batches. |',
  '| `POST /internal/worker/media` | `X-Idempotency-Key` header | Redis + `media_clips.id` | 24h | Avoid duplicate clip records. |',
  '| `POST /internal/worker/streamer-status` | `X-Idempotency-Key` header | Redis | 5m | Prevent rapid duplicate status updates from causing churn. |',
  '| `POST /integrations/telegram/payments` | Telegram payload `invoice_payload` | Redis + `payments.invoice_id` | 24h | Webhook replay safe; ledger credit executed once. |',
];
const seedLimits = [
  '| Per user per streamer | `POST /api/votes` | 30 requests | 60s rolling | `limits.votePerMin` |',
  '| Per user | `POST /api/streamers` | 5 requests | 10m | `limits.streamerSubmitPer10m` |',
  '| Per user | `POST /api/payments/stars/createInvoice` | 3 requests | 5m | `limits.invoicePer5m` |',
  '| Per user | `POST /api/wallet/withdraw` | 2 requests | 1h | `limits.withdrawPerHour` |',
  '| Per worker | `/internal/worker/*` | 120 requests | 60s | `limits.workerBatchPerMin` |',
  '| Global | `/integrations/telegram/payments` | 100 requests | 60s | `limits.telegramWebhookPerMin` |',
];

describe('policies.yaml', () => {
  it('prints back as seed 000, row by row', () => {
    const rows = loadPolicies({ path: POLICY_FILE })
      .markdown()
      .split('\n')
      .filter(
        (line) =>
          line.startsWith('| ') &&
          !line.startsWith('| ---') &&
          !line.startsWith('| Endpoint /') &&
          !line.startsWith('| Scope |'),
      );
    expect(rows).toEqual([...seedIdempotency, ...seedLimits]);
  });

  it('prints the limits in force after configuration values', () => {
    const markdown = loadPolicies(
      { path: POLICY_FILE },
      { overrides: { 'limits.votePerMin': 50 } },
    ).markdown();
    expect(markdown).toContain(
      '| Per user per streamer | `POST /api/votes` | 50 requests | 60s rolling | `limits.votePerMin` |',
    );
  });

  it('gives every worker route the one shared worker limit, and money routes their key settings', () => {
    const document = loadPolicies({ path: POLICY_FILE });
    for (const url of [
      '/internal/worker/events',
      '/internal/worker/media',
      '/internal/worker/streamer-status',
    ]) {
      const options = document.routeOptions('POST', url)!;
      expect(options.policies!.map((policy) => [policy.name, policy.limit, policy.subject])).toEqual([
        ['worker-batch', 120, ['principal']],
      ]);
      expect(options.idempotency).toMatchObject({ mode: 'required', key: { header: 'x-idempotency-key' } });
    }
    expect(document.routeOptions('POST', '/api/votes')!.policies![0]).toMatchObject({
      algorithm: 'sliding-window',
      subject: ['principal', 'body:streamer_id'],
      counts: 'operations',
    });
    expect(document.routeOptions('GET', '/api/wallet')).toBeUndefined();
  });
});
