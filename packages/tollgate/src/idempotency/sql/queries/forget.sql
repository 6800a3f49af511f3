-- Delete the record of $1 if it is completed; one in flight or released stays.
DELETE FROM tollgate_idempotency
WHERE scope = $1 AND state = 'completed'
RETURNING true AS ok
