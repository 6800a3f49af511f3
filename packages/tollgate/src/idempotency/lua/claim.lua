-- Claim-or-get one idempotency record, by the server's clock (the rules of IdempotencyStore.claim).
-- KEYS[1] the record (a hash); ARGV[1] fingerprint, ARGV[2] lease ms, ARGV[3] TTL ms.
-- Returns {1, fence, checkpoint name, checkpoint data} when claimed,
-- else {0, state, fingerprint, lease ms left, expiry ms left, response}.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local lease_ms, ttl_ms = tonumber(ARGV[2]), tonumber(ARGV[3])
local r = redis.call('HMGET', KEYS[1], 'st', 'fp', 'fence', 'lease', 'exp', 'cpn', 'cpd')
local st, fp, fence, lease, exp = r[1], r[2], tonumber(r[3]), tonumber(r[4]), tonumber(r[5])
local lease_until = now + lease_ms
local leased = st == 'in-flight' and lease > now

if not st or (exp <= now and not leased) then
  local new_fence = math.max((fence or 0) + 1, now)
  local new_exp = now + math.max(ttl_ms, lease_ms)
  redis.call('DEL', KEYS[1])
  redis.call('HSET', KEYS[1], 'st', 'in-flight', 'fp', ARGV[1], 'fence', string.format('%d', new_fence),
    'lease', string.format('%d', lease_until), 'exp', string.format('%d', new_exp))
  redis.call('PEXPIREAT', KEYS[1], new_exp)
  return {1, string.format('%d', new_fence), false, false}
end

local claimable
if st == 'released' then
  claimable = (not r[6]) or fp == ARGV[1]
else
  claimable = st == 'in-flight' and not leased and fp == ARGV[1]
end
if not claimable then
  local response = false
  if st == 'completed' then response = redis.call('HGET', KEYS[1], 'resp') end
  return {0, st, fp, math.max(0, lease - now), exp - now, response}
end

local new_fence = math.max(fence + 1, now)
local new_exp = math.max(exp, lease_until)
redis.call('HSET', KEYS[1], 'st', 'in-flight', 'fp', ARGV[1], 'fence', string.format('%d', new_fence),
  'lease', string.format('%d', lease_until), 'exp', string.format('%d', new_exp))
redis.call('PEXPIREAT', KEYS[1], new_exp)
return {1, string.format('%d', new_fence), r[6] or false, r[7] or false}
