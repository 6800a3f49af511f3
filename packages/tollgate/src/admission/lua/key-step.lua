-- The idempotency key of an admission (mode 4 of ratelimit.lua), by the server's clock.
-- Kinds: 1 a RedisIdempotencyStore record (a hash; the rules and fields of
-- idempotency/lua/claim.lua), claimed when every enforcing check admits; 2 a replay-cache entry
-- (a string), only read; 3 a record, only looked up (the first phase on a cluster).
-- Each step answers six values:
--   {1, fence, checkpoint name, checkpoint data, 0, 0}             claimed
--   {0, state, fingerprint, lease ms left, expiry ms left, response} found (a record)
--   {2, 0, 0, 0, 0, 0}                                             not claimed: a check refused
--   {3, bytes, expiry ms left, 0, 0, 0}                            found (a cache entry)
--   {4, 0, 0, 0, 0, 0}                                             nothing this step can see

local key_steps = {}
local record_now
local records = {}

local function clock()
  if not record_now then
    local t = redis.call('TIME')
    record_now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  end
  return record_now
end

-- As claim.lua: 'new' (absent, or expired with no live lease), 'reclaim' (released, or a lapsed
-- lease of the same fingerprint) or 'found'.
local function classify(r, fingerprint, now)
  local st, lease, exp = r[1], tonumber(r[4]), tonumber(r[5])
  local leased = st == 'in-flight' and lease > now
  if not st or (exp <= now and not leased) then return 'new' end
  if st == 'released' then
    if (not r[6]) or r[2] == fingerprint then return 'reclaim' end
  elseif st == 'in-flight' and not leased and r[2] == fingerprint then
    return 'reclaim'
  end
  return 'found'
end

-- Returns true when the key is found (a replay or a conflict): the request then pays only
-- its request checks.
function key_steps.find(kind, key, fingerprint)
  if kind == 2 then
    local bytes = redis.call('GET', key)
    records[key] = bytes
    return bytes ~= false
  end
  -- claim.lua's fields, and the response (only a completed record has one): a replay is then
  -- answered from this one read.
  local r = redis.call('HMGET', key, 'st', 'fp', 'fence', 'lease', 'exp', 'cpn', 'cpd', 'resp')
  records[key] = r
  return classify(r, fingerprint, clock()) == 'found'
end

local function claim(key, r, fingerprint, lease_ms, ttl_ms)
  local now = clock()
  local how = classify(r, fingerprint, now)
  local lease_until = now + lease_ms
  local fence = tonumber(r[3])
  if how == 'new' then
    local new_fence = math.max((fence or 0) + 1, now)
    local new_exp = now + math.max(ttl_ms, lease_ms)
    redis.call('DEL', key)
    redis.call('HSET', key, 'st', 'in-flight', 'fp', fingerprint, 'fence', string.format('%d', new_fence),
      'lease', string.format('%d', lease_until), 'exp', string.format('%d', new_exp))
    redis.call('PEXPIREAT', key, new_exp)
    return { 1, string.format('%d', new_fence), false, false, 0, 0 }
  end
  local new_fence = math.max(fence + 1, now)
  local new_exp = math.max(tonumber(r[5]), lease_until)
  redis.call('HSET', key, 'st', 'in-flight', 'fp', fingerprint, 'fence', string.format('%d', new_fence),
    'lease', string.format('%d', lease_until), 'exp', string.format('%d', new_exp))
  redis.call('PEXPIREAT', key, new_exp)
  return { 1, string.format('%d', new_fence), r[6] or false, r[7] or false, 0, 0 }
end

local function view(r)
  local now = clock()
  local response = false
  if r[1] == 'completed' then response = r[8] end
  return { 0, r[1], r[2], math.max(0, tonumber(r[4]) - now), tonumber(r[5]) - now, response }
end

-- Appends the step's six values to `steps`.
function key_steps.finish(steps, kind, key, found, blocked, fingerprint, lease_ms, ttl_ms)
  local r = records[key]
  local answer
  if kind == 2 then
    if found then answer = { 3, r, redis.call('PTTL', key), 0, 0, 0 } else answer = { 4, 0, 0, 0, 0, 0 } end
  elseif found then
    answer = view(r)
  elseif kind == 3 then
    answer = { 4, 0, 0, 0, 0, 0 }
  elseif blocked then
    answer = { 2, 0, 0, 0, 0, 0 }
  else
    answer = claim(key, r, fingerprint, lease_ms, ttl_ms)
  end
  for i = 1, 6 do steps[#steps + 1] = answer[i] end
end
