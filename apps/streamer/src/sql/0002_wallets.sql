-- Stars per user. The CHECK is the last line of defence: no statement can leave a balance below zero.
CREATE TABLE wallets (
  user_id text PRIMARY KEY,
  balance bigint NOT NULL DEFAULT 0 CONSTRAINT wallets_balance_check CHECK (balance >= 0),
  updated_at timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- Every movement of stars, signed: credits positive, votes and withdrawals negative.
-- `idempotency_key` is a hash of the caller and the key that moved the money: one row per key, ever.
CREATE TABLE wallet_ledger (
  id text PRIMARY KEY,
  user_id text NOT NULL,
  kind text NOT NULL CONSTRAINT wallet_ledger_kind_check CHECK (kind IN ('credit', 'vote', 'withdrawal')),
  amount bigint NOT NULL CONSTRAINT wallet_ledger_amount_check CHECK (
    (kind = 'credit' AND amount > 0) OR (kind <> 'credit' AND amount < 0)
  ),
  ref text NOT NULL,
  idempotency_key text NOT NULL CONSTRAINT wallet_ledger_idempotency_key_key UNIQUE,
  created_at timestamptz NOT NULL DEFAULT clock_timestamp()
);

CREATE INDEX wallet_ledger_user_created_idx ON wallet_ledger (user_id, created_at DESC, id DESC);
