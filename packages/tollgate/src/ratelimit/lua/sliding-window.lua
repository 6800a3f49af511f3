-- Sliding-window counter; state (windowStart, previous, current). The twin of algorithms/sliding-window.ts.
-- evaluate returns allowed, remaining, resetMs, retryAfterMs, then the state if admitted.
local function sliding_reset(previous, current, elapsed, window)
  if current > 0 then return 2 * window - elapsed end
  if previous > 0 then return window - elapsed end
  return 0
end

local function sliding_wait(previous, current, elapsed, limit, window, cost)
  local spare = limit - current - cost
  if spare >= 0 and previous > 0 then
    local at = math.max(elapsed, math.ceil((previous * window - spare * window) / previous))
    if at < window then return at - elapsed end
  end
  local at = 0
  if current > 0 then at = math.max(0, math.ceil((current * window - (limit - cost) * window) / current)) end
  return window - elapsed + at
end

algorithms['sliding-window'] = {
  evaluate = function(a, b, c, limit, window, _, cost, now)
    local start = now - (now % window)
    local previous, current = 0, 0
    if a == start then
      previous, current = b, c
    elseif a == start - window then
      previous = c
    end
    local elapsed = now - start
    local capacity = limit * window
    local used = previous * (window - elapsed) + current * window
    if used + cost * window <= capacity then
      return 1, math.floor((capacity - used - cost * window) / window),
        sliding_reset(previous, current + cost, elapsed, window), 0, start, previous, current + cost
    end
    return 0, math.max(0, math.floor((capacity - used) / window)), sliding_reset(previous, current, elapsed, window),
      sliding_wait(previous, current, elapsed, limit, window, cost)
  end,
  -- Only a cost consumed (at `at`) in the current window is given back; one from the previous
  -- window stays counted (never more than is owed).
  refund = function(a, b, c, _, window, cost, now, at)
    if a == now - (now % window) and at >= a then return a, b, math.max(0, c - cost) end
    return a, b, c
  end,
}
