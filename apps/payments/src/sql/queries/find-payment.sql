-- $1 transaction id, $2 principal: a caller only ever finds its own payments.
SELECT transaction_id, principal, status, amount_minor::text, currency, currency_exponent, payment_method, description, metadata,
       downstream_key, processor_charge_id, decline_code, created_at
FROM payments
WHERE transaction_id = $1 AND principal = $2
