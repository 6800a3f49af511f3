-- A payment: created pending in phase 1, settled (succeeded or declined) in phase 3.
-- Money is an integer of minor units; never a float.
CREATE TABLE payments (
  transaction_id text PRIMARY KEY,
  principal text NOT NULL,
  status text NOT NULL CONSTRAINT payments_status_check CHECK (status IN ('pending', 'succeeded', 'declined')),
  amount_minor bigint NOT NULL CONSTRAINT payments_amount_check CHECK (amount_minor > 0),
  currency char(3) NOT NULL,
  payment_method text NOT NULL,
  description text,
  metadata jsonb NOT NULL DEFAULT '{}',
  -- The key the processor deduplicates on: derived from the payment, so every retry reuses it.
  downstream_key text NOT NULL UNIQUE,
  processor_charge_id text,
  decline_code text,
  created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  updated_at timestamptz NOT NULL DEFAULT clock_timestamp()
);

CREATE INDEX payments_principal_created_idx ON payments (principal, created_at DESC);
