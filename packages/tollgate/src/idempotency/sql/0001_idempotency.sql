-- One row per idempotency scope (the SHA-256 of principal, method, route and key).
CREATE TABLE tollgate_idempotency (
  scope text NOT NULL,
  state text NOT NULL,
  fingerprint text NOT NULL,
  -- Grows on every claim of the scope; every write of a claimant compares it.
  fence bigint NOT NULL,
  lease_until timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  created_at timestamptz NOT NULL,
  checkpoint_name text,
  checkpoint_data jsonb,
  response_status smallint,
  response_headers jsonb,
  response_body bytea,
  response_body_omitted boolean,
  CONSTRAINT tollgate_idempotency_scope_key UNIQUE (scope),
  CONSTRAINT tollgate_idempotency_state_check CHECK (state IN ('in-flight', 'released', 'completed')),
  CONSTRAINT tollgate_idempotency_response_check CHECK ((state = 'completed') = (response_status IS NOT NULL))
);

-- The sweeper deletes expired rows in batches, oldest first.
CREATE INDEX tollgate_idempotency_expires_at_idx ON tollgate_idempotency (expires_at);
