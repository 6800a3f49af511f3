-- The simulated payment processor's own ledger. It is idempotent on the downstream key: one
-- row, hence one charge, per key, however often and from however many processes it is called.
CREATE TABLE processor_charges (
  downstream_key text PRIMARY KEY,
  charge_id text NOT NULL UNIQUE,
  amount_minor bigint NOT NULL,
  currency char(3) NOT NULL,
  outcome text NOT NULL CONSTRAINT processor_charges_outcome_check CHECK (outcome IN ('succeeded', 'declined')),
  decline_code text,
  created_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
