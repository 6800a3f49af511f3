-- A vote: stars from a user's wallet to a streamer, once per idempotency key.
CREATE TABLE votes (
  id text PRIMARY KEY,
  user_id text NOT NULL,
  streamer_id text NOT NULL REFERENCES streamers (id),
  stars bigint NOT NULL CONSTRAINT votes_stars_check CHECK (stars > 0),
  idempotency_key text NOT NULL CONSTRAINT votes_idempotency_key_key UNIQUE,
  created_at timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- A withdrawal request: its ledger row is the debit.
CREATE TABLE withdrawals (
  id text PRIMARY KEY,
  user_id text NOT NULL,
  stars bigint NOT NULL CONSTRAINT withdrawals_stars_check CHECK (stars > 0),
  destination text NOT NULL,
  status text NOT NULL DEFAULT 'pending' CONSTRAINT withdrawals_status_check CHECK (status IN ('pending', 'sent', 'failed')),
  ledger_id text NOT NULL UNIQUE REFERENCES wallet_ledger (id),
  created_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
