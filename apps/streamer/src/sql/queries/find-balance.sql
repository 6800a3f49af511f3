SELECT balance::text AS balance FROM wallets WHERE user_id = $1
