-- The processor's idempotent charge: the first call for a key records it, every later call
-- finds it (ON CONFLICT DO NOTHING returns no row then). $1 key, $2 charge id, $3 amount,
-- $4 currency, $5 outcome, $6 decline code.
INSERT INTO processor_charges (downstream_key, charge_id, amount_minor, currency, outcome, decline_code)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (downstream_key) DO NOTHING
RETURNING charge_id, outcome, decline_code
