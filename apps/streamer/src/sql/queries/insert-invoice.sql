INSERT INTO invoices (id, user_id, payload, stars, generated_key_scope) VALUES ($1, $2, $3, $4, $5)
RETURNING id, payload, stars::text AS stars, currency, status
