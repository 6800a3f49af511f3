-- Streamers users submit; workers report their status; votes credit `votes` (stars received).
CREATE TABLE streamers (
  id text PRIMARY KEY,
  submitted_by text NOT NULL,
  name text NOT NULL,
  platform text NOT NULL CONSTRAINT streamers_platform_check CHECK (platform IN ('twitch', 'youtube', 'kick')),
  channel text NOT NULL,
  status text NOT NULL DEFAULT 'offline' CONSTRAINT streamers_status_check CHECK (status IN ('live', 'offline')),
  viewers integer NOT NULL DEFAULT 0 CONSTRAINT streamers_viewers_check CHECK (viewers >= 0),
  votes bigint NOT NULL DEFAULT 0 CONSTRAINT streamers_votes_check CHECK (votes >= 0),
  created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  updated_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
