-- Renew the lease of the claimant holding fence $2. $1 scope, $3 lease ms.
UPDATE tollgate_idempotency
SET lease_until = clock_timestamp() + $3::float8 * interval '1 millisecond',
    expires_at = greatest(expires_at, clock_timestamp() + $3::float8 * interval '1 millisecond')
WHERE scope = $1 AND fence = $2::bigint AND state = 'in-flight'
RETURNING true AS ok
