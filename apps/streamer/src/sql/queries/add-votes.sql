UPDATE streamers SET votes = votes + $2 WHERE id = $1 RETURNING id
