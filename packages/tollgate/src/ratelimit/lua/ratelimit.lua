-- All-or-nothing rate limiting over every counter of one request, in one round trip; with
-- mode 4, also each request's idempotency key, decided in the same atomic step.
-- Prepended at load time: `local algorithms = {}`, `local algorithmNames = {…}`, the files of
-- the algorithms the request's policies use (token-bucket.lua…) and, for mode 4 only,
-- admission/lua/key-step.lua, so a script defines nothing it will not run.
--
-- KEYS: every counter of every request in the call (all in one hash slot on a cluster), then
--   (mode 4) the key of each request's key step, in order.
-- ARGV[1]: "mode clock": mode 1 consume, 2 peek, 3 refund, 4 admit; clock 0 to use the
--   server's TIME, a millisecond timestamp only in tests.
-- ARGV[2]: modes 1-3, how many checks each request has, e.g. "3 3 1"; mode 4, "r.o.k" per
--   request: r checks every request pays, o checks only a request that runs its handler pays,
--   k its key step (0 none, see key-step.lua for the others). Requests are decided in order,
--   each all-or-nothing on its own and seeing the writes of those before it.
-- ARGV[2 + i]: check i as "algorithm limit windowMs burst enforce cost", algorithm being a
--   1-based index into algorithmNames and enforce 1 | 0; mode 3 adds " at", the instant the
--   cost was consumed. Then (mode 4) two arguments per key step: fingerprint, "leaseMs ttlMs".
-- Returns {now, allowed₁, remaining₁, resetMs₁, retryAfterMs₁, allowed₂, …} over all checks,
--   then (mode 4) six values per key step (see key-step.lua).
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

-- A batch repeats a handful of distinct check arguments (one per policy and cost): each is
-- parsed once per call.
local parsed = {}
local function check_at(i)
  local argument = ARGV[i + 2]
  local check = parsed[argument]
  if not check then
    local code, limit, window, burst, enforce, cost, at
    if mode == 3 then
      code, limit, window, burst, enforce, cost, at = string.match(argument, '^(%d+) (%d+) (%d+) (%d+) (%d) (%d+) ?(%d*)$')
    else
      code, limit, window, burst, enforce, cost = string.match(argument, '^(%d+) (%d+) (%d+) (%d+) (%d) (%d+)$')
    end
    check = { algorithms[algorithmNames[tonumber(code)]], tonumber(limit), tonumber(window), tonumber(burst),
      enforce == '1', tonumber(cost), tonumber(at) }
    parsed[argument] = check
  end
  return check
end

-- Modes 1-3 have only counters in KEYS; mode 4 counts its requests' checks first.
local counters = #KEYS
local requests = {}
if mode == 4 then
  counters = 0
  for r, o, k in string.gmatch(ARGV[2], '(%d+)%.(%d+)%.(%d)') do
    r, o = tonumber(r), tonumber(o)
    requests[#requests + 1] = { r, o, tonumber(k) }
    counters = counters + r + o
  end
end

-- Every counter is read once, up front; `state` then holds each key's latest value, so a
-- request sees the writes of those before it, and each changed key is written once, at
-- the end, with its last state and expiry.
local state, dirty = {}, {}
if counters > 0 then
  local values = redis.call('MGET', unpack(KEYS, 1, counters))
  for i = 1, counters do state[KEYS[i]] = values[i] end
end

local out = { now }
local n = 1

-- Decides checks first..last, appending their verdicts; when `writes` is given, appends
-- (key, state, expiry) for each admitted check after its first `w` values. Returns true when
-- an enforcing check denied, and the new count of values in `writes`.
local function decide(first, last, writes, w)
  local blocked = false
  for i = first, last do
    local check = check_at(i)
    local key = KEYS[i]
    local value = state[key]
    local a, b, c = 0, 0, 0
    if value then a, b, c = struct.unpack('<ddd', value) end
    local allowed, remaining, reset, retry, na, nb, nc =
      check[1].evaluate(a, b, c, check[2], check[3], check[4], check[6], now)
    if allowed == 1 then
      if writes then
        writes[w + 1] = key
        writes[w + 2] = struct.pack('<ddd', na, nb, nc)
        writes[w + 3] = math.max(1, reset) + linger
        w = w + 3
      end
    elseif check[5] then
      blocked = true
    end
    out[n + 1] = allowed
    out[n + 2] = remaining
    out[n + 3] = reset
    out[n + 4] = retry
    n = n + 4
  end
  return blocked, w
end

-- One table reused by every request: a request's writes are kept only if it is admitted.
local writes = {}
local function commit(w)
  for j = 1, w, 3 do
    state[writes[j]] = writes[j + 1]
    dirty[writes[j]] = writes[j + 2]
  end
end

local first = 1
if mode == 4 then
  local steps = {}
  local step = 0
  for _, request in ipairs(requests) do
    local r, o, kind = request[1], request[2], request[3]
    local blocked, w = decide(first, first + r - 1, writes, 0)
    local found, key, fingerprint, lease_ms, ttl_ms
    if kind ~= 0 then
      step = step + 1
      key, fingerprint = KEYS[counters + step], ARGV[2 + counters + 2 * step - 1]
      lease_ms, ttl_ms = string.match(ARGV[2 + counters + 2 * step], '^(%d+) (%d+)$')
      found = key_steps.find(kind, key, fingerprint)
    end
    if found then
      -- A replay or a conflict: operation checks are only peeked.
      decide(first + r, first + r + o - 1, nil, 0)
    else
      local refused
      refused, w = decide(first + r, first + r + o - 1, writes, w)
      blocked = blocked or refused
    end
    if not blocked then commit(w) end
    if kind ~= 0 then
      key_steps.finish(steps, kind, key, found, blocked, fingerprint, tonumber(lease_ms), tonumber(ttl_ms))
    end
    first = first + r + o
  end
  for i = 1, #steps do out[n + i] = steps[i] end
else
  for count in string.gmatch(ARGV[2], '%d+') do
    local last = first + tonumber(count) - 1
    if mode == 3 then
      for i = first, last do
        local key = KEYS[i]
        local value = state[key]
        if value then
          local check = check_at(i)
          local a, b, c = struct.unpack('<ddd', value)
          state[key] = struct.pack('<ddd', check[1].refund(a, b, c, check[2], check[3], check[6], now, check[7] or now))
          dirty[key] = dirty[key] or -1 -- keep the key's expiry
        end
      end
    else
      if mode == 1 then
        local blocked, w = decide(first, last, writes, 0)
        if not blocked then commit(w) end
      else
        decide(first, last, nil, 0)
      end
    end
    first = last + 1
  end
end

for key, expiry in pairs(dirty) do
  if expiry == -1 then
    redis.call('SET', key, state[key], 'KEEPTTL')
  else
    redis.call('PSETEX', key, expiry, state[key])
  end
end
return out
