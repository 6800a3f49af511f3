-- Phase 3: the processor's outcome. $1 transaction id, $2 status, $3 charge id, $4 decline code.
UPDATE payments
SET status = $2, processor_charge_id = $3, decline_code = $4, updated_at = clock_timestamp()
WHERE transaction_id = $1 AND status = 'pending'
RETURNING transaction_id, principal, status, amount_minor::text, currency, currency_exponent, payment_method, description, metadata,
          downstream_key, processor_charge_id, decline_code, created_at
