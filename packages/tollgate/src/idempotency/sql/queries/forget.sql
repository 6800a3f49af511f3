-- Free the key of $1 if its record is completed (and, when $2 is not null, completed under
-- fence $2): released, no response, no checkpoint, the fence kept.
UPDATE tollgate_idempotency
SET state = 'released',
    response_status = NULL,
    response_headers = NULL,
    response_body = NULL,
    response_body_omitted = NULL,
    checkpoint_name = NULL,
    checkpoint_data = NULL
WHERE scope = $1 AND state = 'completed' AND ($2::bigint IS NULL OR fence = $2::bigint)
RETURNING true AS ok
