-- Events the workers report: one row per (streamer, external id), whatever the batches repeat.
CREATE TABLE events (
  id bigserial PRIMARY KEY,
  streamer_id text NOT NULL REFERENCES streamers (id),
  external_id text NOT NULL,
  type text NOT NULL,
  occurred_at timestamptz NOT NULL,
  data jsonb,
  worker_id text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  CONSTRAINT events_streamer_external_key UNIQUE (streamer_id, external_id)
);

-- Clips: the worker's id is the primary key.
CREATE TABLE media_clips (
  id text PRIMARY KEY,
  streamer_id text NOT NULL REFERENCES streamers (id),
  url text NOT NULL,
  title text,
  duration_s integer,
  worker_id text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT clock_timestamp()
);

CREATE INDEX media_clips_streamer_idx ON media_clips (streamer_id);
