SELECT id, user_id, stars::text AS stars, currency, status FROM invoices WHERE payload = $1
