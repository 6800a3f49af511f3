UPDATE streamers
SET status = $2, viewers = COALESCE($3, CASE WHEN $2 = 'offline' THEN 0 ELSE viewers END), updated_at = clock_timestamp()
WHERE id = $1
RETURNING id, status, viewers, updated_at
