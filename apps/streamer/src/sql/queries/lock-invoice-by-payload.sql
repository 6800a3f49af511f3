SELECT id, user_id, stars::text AS stars, currency, status, generated_key_scope,
  generated_key_fence::text AS generated_key_fence FROM invoices WHERE payload = $1 FOR UPDATE
