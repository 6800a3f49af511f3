-- The balance check and the debit in one statement: concurrent debits queue on the row lock,
-- and each sees the balance the one before left.
UPDATE wallets SET balance = balance - $2, updated_at = clock_timestamp()
WHERE user_id = $1 AND balance >= $2
RETURNING balance::text AS balance
