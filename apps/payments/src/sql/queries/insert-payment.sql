-- $1 transaction id, $2 principal, $3 amount (minor units), $4 currency, $5 method,
-- $6 description, $7 metadata, $8 downstream key, $9 the currency's exponent.
INSERT INTO payments (transaction_id, principal, status, amount_minor, currency, payment_method, description, metadata, downstream_key, currency_exponent)
VALUES ($1, $2, 'pending', $3, $4, $5, $6, $7, $8, $9)
RETURNING transaction_id, principal, status, amount_minor::text, currency, currency_exponent, payment_method, description, metadata,
          downstream_key, processor_charge_id, decline_code, created_at
