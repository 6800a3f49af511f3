-- A charge that was credited (it is in `payments`) is never unmatched, whatever was answered to
-- a later delivery of it.
INSERT INTO unmatched_payments
  (telegram_payment_charge_id, provider_payment_charge_id, telegram_user_id, invoice_payload,
   invoice_id, currency, total_amount, reason, update_id)
SELECT $1, $2, $3, $4, (SELECT id FROM invoices WHERE payload = $4), $5, $6, $7, $8
WHERE NOT EXISTS (SELECT 1 FROM payments WHERE telegram_payment_charge_id = $1)
ON CONFLICT (telegram_payment_charge_id) DO NOTHING
RETURNING invoice_id
