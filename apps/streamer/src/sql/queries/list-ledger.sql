SELECT id, kind, amount::text AS amount, ref, created_at
FROM wallet_ledger
WHERE user_id = $1
ORDER BY created_at DESC, id DESC
LIMIT $2
