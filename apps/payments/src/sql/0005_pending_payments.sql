-- The recovery worker looks for payments left pending, oldest first.
CREATE INDEX payments_pending_idx ON payments (updated_at) WHERE status = 'pending';
