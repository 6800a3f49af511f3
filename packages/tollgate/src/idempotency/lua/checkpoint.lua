-- Record a recovery point for the claimant holding fence ARGV[1]: name ARGV[2], JSON data ARGV[3].
-- KEYS[1] the record. Returns 1, or 0 when the fence is stale.
local r = redis.call('HMGET', KEYS[1], 'st', 'fence')
if r[1] ~= 'in-flight' or r[2] ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'cpn', ARGV[2], 'cpd', ARGV[3])
return 1
