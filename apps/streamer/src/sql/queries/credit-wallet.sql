INSERT INTO wallets (user_id, balance) VALUES ($1, $2)
ON CONFLICT (user_id) DO UPDATE SET balance = wallets.balance + EXCLUDED.balance, updated_at = clock_timestamp()
RETURNING balance::text AS balance
