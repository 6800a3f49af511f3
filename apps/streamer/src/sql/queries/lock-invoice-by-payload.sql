SELECT id, user_id, stars::text AS stars, currency, status, generated_key_scope FROM invoices WHERE payload = $1 FOR UPDATE
