-- Free the key held by fence ARGV[1], keeping the checkpoint. KEYS[1] the record.
-- Returns 1, or 0 when the fence is stale.
local r = redis.call('HMGET', KEYS[1], 'st', 'fence')
if r[1] ~= 'in-flight' or r[2] ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'st', 'released')
return 1
