-- All-or-nothing rate limiting over every counter of one request, in one round trip.
-- Prepended at load time: `local algorithms = {}` and the files of the algorithms the
-- request's policies use (token-bucket.lua…), so a script defines nothing it will not run.
--
-- KEYS: one counter per check (all in one hash slot on a cluster).
-- ARGV[1]: 'consume' | 'peek' | 'refund'
-- ARGV[2]: '' to use the server clock (TIME); a millisecond timestamp only in tests
-- ARGV[3 + 6·(i−1) …]: algorithm, limit, windowMs, burst, cost, enforce (1 | 0) of check i
-- Returns {now, allowed₁, remaining₁, resetMs₁, retryAfterMs₁, allowed₂, …}.
-- State is three integers packed as little-endian doubles (exact below 2^53), expiring when
-- the counter is back to empty. Scripts replicate by effects (the default since Redis 5),
-- so reading TIME before writing is safe.

local mode = ARGV[1]
local now
if ARGV[2] ~= '' then
  now = tonumber(ARGV[2])
else
  local time = redis.call('TIME')
  now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
end

local function read(key)
  local value = redis.call('GET', key)
  if value then
    local a, b, c = struct.unpack('<ddd', value)
    return { a, b, c }
  end
  return { 0, 0, 0 }
end

local function encode(s)
  return struct.pack('<ddd', s[1], s[2], s[3])
end

local out = { now }
local pending = {}
local blocked = false
for i = 1, #KEYS do
  local base = 3 + (i - 1) * 6
  local algorithm = algorithms[ARGV[base]]
  local limit, window, burst, cost = tonumber(ARGV[base + 1]), tonumber(ARGV[base + 2]), tonumber(ARGV[base + 3]),
    tonumber(ARGV[base + 4])
  local s = read(KEYS[i])
  if mode == 'refund' then
    if redis.call('EXISTS', KEYS[i]) == 1 then
      redis.call('SET', KEYS[i], encode(algorithm.refund(s, limit, window, cost, now)), 'KEEPTTL')
    end
  else
    local allowed, remaining, reset, retry, nextState = algorithm.evaluate(s, limit, window, burst, cost, now)
    if allowed == 0 and ARGV[base + 5] == '1' then blocked = true end
    if allowed == 1 then pending[#pending + 1] = { KEYS[i], nextState, reset } end
    out[#out + 1] = allowed
    out[#out + 1] = remaining
    out[#out + 1] = reset
    out[#out + 1] = retry
  end
end

if mode == 'consume' and not blocked then
  for _, write in ipairs(pending) do
    redis.call('SET', write[1], encode(write[2]), 'PX', math.max(1, write[3]))
  end
end
return out
