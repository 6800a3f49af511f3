-- Phase 1: the pending payment and its `payment.created` audit row, in one statement (one round
-- trip; both commit or roll back with phase 1's transaction). $1 transaction id, $2 principal,
-- $3 amount (minor units), $4 currency, $5 method, $6 description, $7 metadata, $8 downstream
-- key, $9 the currency's exponent, $10 request id.
WITH payment AS (
  INSERT INTO payments (transaction_id, principal, status, amount_minor, currency, payment_method, description, metadata, downstream_key, currency_exponent)
  VALUES ($1, $2, 'pending', $3, $4, $5, $6, $7, $8, $9)
  RETURNING transaction_id, principal, status, amount_minor::text, currency, currency_exponent, payment_method, description, metadata,
            downstream_key, processor_charge_id, decline_code, created_at
), audit AS (
  INSERT INTO audit_logs (principal, action, transaction_id, request_id, details)
  SELECT principal, 'payment.created', transaction_id, $10,
         jsonb_build_object('amount_minor', amount_minor, 'currency', currency, 'downstream_key', downstream_key)
  FROM payment
)
SELECT * FROM payment
