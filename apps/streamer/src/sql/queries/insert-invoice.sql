INSERT INTO invoices (id, user_id, payload, stars) VALUES ($1, $2, $3, $4)
RETURNING id, payload, stars::text AS stars, currency, status
