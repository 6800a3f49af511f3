-- $1 transaction id, $2 principal, $3 amount (minor units), $4 currency, $5 method,
-- $6 description, $7 metadata, $8 downstream key.
INSERT INTO payments (transaction_id, principal, status, amount_minor, currency, payment_method, description, metadata, downstream_key)
VALUES ($1, $2, 'pending', $3, $4, $5, $6, $7, $8)
RETURNING transaction_id, principal, status, amount_minor::text, currency, payment_method, description, metadata,
          downstream_key, processor_charge_id, decline_code, created_at
