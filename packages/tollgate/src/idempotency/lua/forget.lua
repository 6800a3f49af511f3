-- Free the key if its record is completed (and, when ARGV[1] is not empty, completed under
-- fence ARGV[1]): released, no response, no checkpoint, the fence kept. KEYS[1] the record.
-- Returns 1 when forgotten, 0 otherwise.
local r = redis.call('HMGET', KEYS[1], 'st', 'fence')
if r[1] ~= 'completed' or (ARGV[1] ~= '' and r[2] ~= ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'st', 'released')
redis.call('HDEL', KEYS[1], 'resp', 'cpn', 'cpd')
return 1
