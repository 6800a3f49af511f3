-- The caller's trail, newest first. $1 principal, $2 cursor (entries older than this id; NULL
-- for the newest), $3 page size. The identity column is the keyset: it orders by the bigint
-- itself (the text form is only what the API shows), so a cursor names one place in the
-- order and paging never skips or repeats a row.
SELECT a.id::text AS id, a.action, a.transaction_id, a.request_id, a.details, a.created_at
FROM audit_logs a
WHERE a.principal = $1 AND ($2::bigint IS NULL OR a.id < $2::bigint)
ORDER BY a.id DESC
LIMIT $3
