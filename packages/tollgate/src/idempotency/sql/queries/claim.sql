-- Claim-or-get in one statement. $1 scope, $2 fingerprint, $3 lease ms, $4 TTL ms.
-- "now" is the database's clock, read once; the conflict rules are those of IdempotencyStore.claim.
WITH claimed AS (
  INSERT INTO tollgate_idempotency AS r (scope, state, fingerprint, fence, lease_until, expires_at, created_at)
  SELECT $1, 'in-flight', $2, (extract(epoch FROM c.now) * 1000)::bigint,
         c.now + $3::float8 * interval '1 millisecond',
         c.now + greatest($4::float8, $3::float8) * interval '1 millisecond',
         c.now
  FROM (SELECT clock_timestamp() AS now) AS c
  ON CONFLICT (scope) DO UPDATE SET
    state = 'in-flight',
    fingerprint = excluded.fingerprint,
    fence = greatest(r.fence + 1, excluded.fence),
    lease_until = excluded.lease_until,
    expires_at = CASE WHEN r.expires_at <= excluded.created_at THEN excluded.expires_at
                      ELSE greatest(r.expires_at, excluded.lease_until) END,
    created_at = CASE WHEN r.expires_at <= excluded.created_at THEN excluded.created_at ELSE r.created_at END,
    checkpoint_name = CASE WHEN r.expires_at <= excluded.created_at THEN NULL ELSE r.checkpoint_name END,
    checkpoint_data = CASE WHEN r.expires_at <= excluded.created_at THEN NULL ELSE r.checkpoint_data END,
    response_status = NULL,
    response_headers = NULL,
    response_body = NULL,
    response_body_omitted = NULL
  WHERE (r.expires_at <= excluded.created_at
         AND NOT (r.state = 'in-flight' AND r.lease_until > excluded.created_at))
     OR (r.state = 'released' AND (r.checkpoint_name IS NULL OR r.fingerprint = excluded.fingerprint))
     OR (r.state = 'in-flight' AND r.lease_until <= excluded.created_at AND r.fingerprint = excluded.fingerprint)
  RETURNING r.fence, r.checkpoint_name, r.checkpoint_data
)
SELECT true AS claimed, fence::text AS fence, checkpoint_name, checkpoint_data,
       NULL::text AS state, NULL::text AS fingerprint, NULL::float8 AS lease_remaining_ms, NULL::float8 AS expires_in_ms,
       NULL::smallint AS response_status, NULL::jsonb AS response_headers, NULL::bytea AS response_body,
       NULL::boolean AS response_body_omitted
FROM claimed
UNION ALL
-- Not claimed: the record as it is. A row committed by a racing claimant while this statement
-- waited is not in this statement's snapshot; the store then reads it with record.sql.
SELECT false, NULL, NULL, NULL, state, fingerprint,
       greatest(0, extract(epoch FROM lease_until - clock_timestamp()) * 1000)::float8,
       (extract(epoch FROM expires_at - clock_timestamp()) * 1000)::float8,
       response_status, response_headers, response_body, response_body_omitted
FROM tollgate_idempotency
WHERE scope = $1 AND NOT EXISTS (SELECT FROM claimed)
