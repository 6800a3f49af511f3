-- Renew the lease of the claimant holding fence ARGV[1] for ARGV[2] ms. KEYS[1] the record.
-- Returns 1, or 0 when the fence is stale.
local r = redis.call('HMGET', KEYS[1], 'st', 'fence', 'exp')
if r[1] ~= 'in-flight' or r[2] ~= ARGV[1] then return 0 end
local t = redis.call('TIME')
local lease_until = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + tonumber(ARGV[2])
local exp = math.max(tonumber(r[3]), lease_until)
redis.call('HSET', KEYS[1], 'lease', string.format('%d', lease_until), 'exp', string.format('%d', exp))
redis.call('PEXPIREAT', KEYS[1], exp)
return 1
