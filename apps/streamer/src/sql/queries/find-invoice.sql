SELECT id, payload, stars::text AS stars, currency, status FROM invoices WHERE id = $1 AND user_id = $2
