-- The record of a scope as it is now. $1 scope.
SELECT false AS claimed, NULL::text AS fence, NULL::text AS checkpoint_name, NULL::jsonb AS checkpoint_data,
       state, fingerprint,
       greatest(0, extract(epoch FROM lease_until - clock_timestamp()) * 1000)::float8 AS lease_remaining_ms,
       (extract(epoch FROM expires_at - clock_timestamp()) * 1000)::float8 AS expires_in_ms,
       response_status, response_headers, response_body, response_body_omitted
FROM tollgate_idempotency
WHERE scope = $1
