SELECT s.id, s.name, s.platform, s.channel, s.status, s.viewers, s.votes::text AS votes,
  (SELECT count(*) FROM events e WHERE e.streamer_id = s.id)::int AS event_count,
  (SELECT count(*) FROM media_clips c WHERE c.streamer_id = s.id)::int AS clip_count,
  s.updated_at
FROM streamers s
WHERE s.id = $1
