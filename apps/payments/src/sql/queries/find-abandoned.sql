-- Payments left pending (their request died or its client never retried): untouched for at
-- least $1 ms, oldest first, at most $2.
SELECT transaction_id, principal, status, amount_minor::text, currency, currency_exponent, payment_method, description, metadata,
       downstream_key, processor_charge_id, decline_code, created_at
FROM payments
WHERE status = 'pending' AND updated_at < clock_timestamp() - make_interval(secs => $1::double precision / 1000)
ORDER BY updated_at
LIMIT $2
