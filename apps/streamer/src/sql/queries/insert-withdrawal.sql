INSERT INTO withdrawals (id, user_id, stars, destination, ledger_id) VALUES ($1, $2, $3, $4, $5)
