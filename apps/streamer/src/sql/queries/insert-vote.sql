INSERT INTO votes (id, user_id, streamer_id, stars, idempotency_key) VALUES ($1, $2, $3, $4, $5)
