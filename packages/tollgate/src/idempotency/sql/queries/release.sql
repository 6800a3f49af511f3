-- Free the key held by fence $2, keeping the checkpoint. $1 scope.
UPDATE tollgate_idempotency
SET state = 'released'
WHERE scope = $1 AND fence = $2::bigint AND state = 'in-flight'
RETURNING true AS ok
