INSERT INTO streamers (id, submitted_by, name, platform, channel)
VALUES ($1, $2, $3, $4, $5)
RETURNING id, name, platform, channel, status
