-- Store the response (ARGV[2], encoded) of the claimant holding fence ARGV[1]; keep the record
-- ARGV[3] ms from now. KEYS[1] the record. Returns 1, or 0 when the fence is stale.
local r = redis.call('HMGET', KEYS[1], 'st', 'fence')
if r[1] ~= 'in-flight' or r[2] ~= ARGV[1] then return 0 end
local t = redis.call('TIME')
local exp = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + tonumber(ARGV[3])
redis.call('HSET', KEYS[1], 'st', 'completed', 'resp', ARGV[2], 'exp', string.format('%d', exp))
redis.call('HDEL', KEYS[1], 'cpn', 'cpd')
redis.call('PEXPIREAT', KEYS[1], exp)
return 1
