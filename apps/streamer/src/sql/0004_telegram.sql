-- Telegram Stars invoices: `payload` is what Telegram sends back as `invoice_payload`.
CREATE TABLE invoices (
  id text PRIMARY KEY,
  user_id text NOT NULL,
  payload text NOT NULL UNIQUE,
  stars bigint NOT NULL CONSTRAINT invoices_stars_check CHECK (stars > 0),
  currency text NOT NULL DEFAULT 'XTR',
  status text NOT NULL DEFAULT 'open' CONSTRAINT invoices_status_check CHECK (status IN ('open', 'paid')),
  created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  paid_at timestamptz
);

-- A successful payment: at most one per invoice, whatever Telegram redelivers.
CREATE TABLE payments (
  id text PRIMARY KEY,
  invoice_id text NOT NULL CONSTRAINT payments_invoice_id_key UNIQUE REFERENCES invoices (id),
  stars bigint NOT NULL,
  telegram_payment_charge_id text NOT NULL,
  provider_payment_charge_id text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
