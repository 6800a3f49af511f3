SELECT id FROM streamers WHERE id = ANY($1::text[])
