-- The caller's trail, newest first. $1 principal, $2 cursor (entries older than this id; NULL
-- for the newest), $3 page size.
SELECT id::text, action, transaction_id, request_id, details, created_at
FROM audit_logs
WHERE principal = $1 AND ($2::bigint IS NULL OR id < $2::bigint)
ORDER BY id DESC
LIMIT $3
