INSERT INTO wallet_ledger (id, user_id, kind, amount, ref, idempotency_key)
VALUES ($1, $2, $3, $4, $5, $6)
