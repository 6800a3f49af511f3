-- Record a recovery point for the claimant holding fence $2. $1 scope, $3 name, $4 data (JSON text).
UPDATE tollgate_idempotency
SET checkpoint_name = $3, checkpoint_data = $4::jsonb
WHERE scope = $1 AND fence = $2::bigint AND state = 'in-flight'
RETURNING true AS ok
