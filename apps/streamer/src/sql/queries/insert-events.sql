INSERT INTO events (streamer_id, external_id, type, occurred_at, data, worker_id)
SELECT e.streamer_id, e.external_id, e.type, e.occurred_at, e.data, $2
FROM jsonb_to_recordset($1::jsonb) AS e(streamer_id text, external_id text, type text, occurred_at timestamptz, data jsonb)
-- In key order: two batches sharing rows take their locks in the same order, so never deadlock.
ORDER BY e.streamer_id, e.external_id
ON CONFLICT (streamer_id, external_id) DO NOTHING
RETURNING id
