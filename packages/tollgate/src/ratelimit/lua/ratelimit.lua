-- All-or-nothing rate limiting over every counter of one request, in one round trip.
-- Prepended at load time: `local algorithms = {}`, `local algorithmNames = {…}` and the
-- files of the algorithms the request's policies use (token-bucket.lua…), so a script
-- defines nothing it will not run.
--
-- KEYS: every counter of every request in the call (all in one hash slot on a cluster).
-- ARGV[1]: "mode clock": mode 1 consume, 2 peek, 3 refund; clock 0 to use the server's
--   TIME, a millisecond timestamp only in tests.
-- ARGV[2]: how many checks each request has, e.g. "3 3 1": requests are decided in order,
--   each all-or-nothing on its own and seeing the writes of those before it.
-- ARGV[2 + i]: check i as "algorithm limit windowMs burst enforce cost", algorithm being a
--   1-based index into algorithmNames and enforce 1 | 0 (one argument per check: every
--   argument costs the client and the server a string of its own).
-- Returns {now, allowed₁, remaining₁, resetMs₁, retryAfterMs₁, allowed₂, …} over all checks.
-- State is three integers packed as little-endian doubles (exact below 2^53), expiring when
-- the counter is back to empty. Scripts replicate by effects (the default since Redis 5),
-- so reading TIME before writing is safe.

local mode, now = string.match(ARGV[1], '^(%d) (%d+)$')
mode, now = tonumber(mode), tonumber(now)
-- Keys expire on the server's clock. Under a test clock they live an hour longer, or a
-- key could vanish in real time while the test's time stands still (state kept past its
-- reset is the same as no state, in every algorithm).
local linger = 3600000
if now == 0 then
  linger = 0
  local time = redis.call('TIME')
  now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
end

-- Every key is read once, up front; `state` then holds each key's latest value, so a
-- request sees the writes of those before it, and each changed key is written once, at
-- the end, with its last state and expiry.
local state, dirty = {}, {}
local values = redis.call('MGET', unpack(KEYS))
for i = 1, #KEYS do state[KEYS[i]] = values[i] end

local out = { now }
local first = 1
for count in string.gmatch(ARGV[2], '%d+') do
  local last = first + tonumber(count) - 1
  local admitted = {}
  local blocked = false
  for i = first, last do
    local code, limit, window, burst, enforce, cost = string.match(ARGV[i + 2], '^(%d+) (%d+) (%d+) (%d+) (%d) (%d+)$')
    local algorithm = algorithms[algorithmNames[tonumber(code)]]
    limit, window, burst, cost = tonumber(limit), tonumber(window), tonumber(burst), tonumber(cost)
    local key = KEYS[i]
    local value = state[key]
    local a, b, c = 0, 0, 0
    if value then a, b, c = struct.unpack('<ddd', value) end
    if mode == 3 then
      if value then
        state[key] = struct.pack('<ddd', algorithm.refund(a, b, c, limit, window, cost, now))
        dirty[key] = dirty[key] or -1 -- keep the key's expiry
      end
    else
      local allowed, remaining, reset, retry, na, nb, nc = algorithm.evaluate(a, b, c, limit, window, burst, cost, now)
      if allowed == 1 then
        admitted[#admitted + 1] = { key, struct.pack('<ddd', na, nb, nc), math.max(1, reset) + linger }
      elseif enforce == '1' then
        blocked = true
      end
      out[#out + 1] = allowed
      out[#out + 1] = remaining
      out[#out + 1] = reset
      out[#out + 1] = retry
    end
  end
  if mode == 1 and not blocked then
    for _, write in ipairs(admitted) do
      state[write[1]] = write[2]
      dirty[write[1]] = write[3]
    end
  end
  first = last + 1
end

for key, expiry in pairs(dirty) do
  if expiry == -1 then
    redis.call('SET', key, state[key], 'KEEPTTL')
  else
    redis.call('SET', key, state[key], 'PX', expiry)
  end
end
return out
