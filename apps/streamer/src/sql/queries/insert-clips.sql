INSERT INTO media_clips (id, streamer_id, url, title, duration_s, worker_id)
SELECT c.id, c.streamer_id, c.url, c.title, c.duration_s, $2
FROM jsonb_to_recordset($1::jsonb) AS c(id text, streamer_id text, url text, title text, duration_s integer)
-- In key order: two batches sharing rows take their locks in the same order, so never deadlock.
ORDER BY c.id
ON CONFLICT (id) DO NOTHING
RETURNING id
