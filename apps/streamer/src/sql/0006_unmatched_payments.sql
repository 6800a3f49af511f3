-- A successful Telegram payment the service did not credit: a second charge of an invoice
-- already paid, a payload no invoice has, an amount or currency unlike its invoice. Telegram
-- has taken the user's Stars; an operator refunds them (`refundStarPayment` needs the user id
-- and the charge id). One row per charge, whatever Telegram redelivers.
CREATE TABLE unmatched_payments (
  telegram_payment_charge_id text PRIMARY KEY,
  provider_payment_charge_id text NOT NULL,
  telegram_user_id bigint,
  invoice_payload text NOT NULL,
  invoice_id text REFERENCES invoices (id),
  currency text NOT NULL,
  total_amount bigint NOT NULL,
  -- The problem the webhook answered (`invoice-already-paid`, `idempotency-key-mismatch`…).
  reason text NOT NULL,
  update_id bigint NOT NULL,
  created_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
