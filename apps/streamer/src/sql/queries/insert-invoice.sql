INSERT INTO invoices (id, user_id, payload, stars, generated_key_scope, generated_key_fence)
VALUES ($1, $2, $3, $4, $5, $6::bigint)
RETURNING id, payload, stars::text AS stars, currency, status
