-- Store the response of the claimant holding fence $2. $1 scope, $3 status, $4 headers (JSON text),
-- $5 body, $6 body omitted, $7 TTL ms.
UPDATE tollgate_idempotency
SET state = 'completed',
    response_status = $3::smallint,
    response_headers = $4::jsonb,
    response_body = $5::bytea,
    response_body_omitted = $6::boolean,
    checkpoint_name = NULL,
    checkpoint_data = NULL,
    expires_at = clock_timestamp() + $7::float8 * interval '1 millisecond'
WHERE scope = $1 AND fence = $2::bigint AND state = 'in-flight'
RETURNING true AS ok
