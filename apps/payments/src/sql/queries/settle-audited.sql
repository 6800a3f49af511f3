-- Phase 3: the processor's outcome and its audit row, in one statement (one round trip; both
-- commit or roll back with phase 3's transaction). Answers the settled payment, or no row when
-- it was no longer pending (another request or the recovery worker settled it first); the audit
-- row is written either way, as each step appended its own.
-- $1 transaction id, $2 status, $3 charge id, $4 decline code, $5 principal, $6 request id,
-- $7 audit action, $8 audit details.
WITH settled AS (
  UPDATE payments
  SET status = $2, processor_charge_id = $3, decline_code = $4, updated_at = clock_timestamp()
  WHERE transaction_id = $1 AND status = 'pending'
  RETURNING transaction_id, principal, status, amount_minor::text, currency, currency_exponent, payment_method, description, metadata,
            downstream_key, processor_charge_id, decline_code, created_at
), audit AS (
  INSERT INTO audit_logs (principal, action, transaction_id, request_id, details)
  VALUES ($5, $7, $1, $6, $8)
)
SELECT * FROM settled
