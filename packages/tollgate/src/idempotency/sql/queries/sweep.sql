-- Delete up to $1 expired records that hold no live lease, oldest first; concurrent sweepers
-- skip each other's rows instead of waiting.
WITH swept AS (
  DELETE FROM tollgate_idempotency
  WHERE scope IN (
    SELECT scope FROM tollgate_idempotency
    WHERE expires_at <= clock_timestamp()
      AND NOT (state = 'in-flight' AND lease_until > clock_timestamp())
    ORDER BY expires_at
    LIMIT $1
    FOR UPDATE SKIP LOCKED
  )
  RETURNING 1
)
SELECT count(*)::int AS swept FROM swept
