-- Sliding-window counter; state {windowStart, previous, current}. The twin of algorithms/sliding-window.ts.
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
  evaluate = function(s, limit, window, burst, cost, now)
    local start = now - (now % window)
    local previous, current = 0, 0
    if s[1] == start then
      previous, current = s[2], s[3]
    elseif s[1] == start - window then
      previous = s[3]
    end
    local elapsed = now - start
    local capacity = limit * window
    local used = previous * (window - elapsed) + current * window
    if used + cost * window <= capacity then
      return 1, math.floor((capacity - used - cost * window) / window),
        sliding_reset(previous, current + cost, elapsed, window), 0, { start, previous, current + cost }
    end
    return 0, math.max(0, math.floor((capacity - used) / window)), sliding_reset(previous, current, elapsed, window),
      sliding_wait(previous, current, elapsed, limit, window, cost), nil
  end,
  refund = function(s, limit, window, cost, now)
    if s[1] == now - (now % window) then return { s[1], s[2], math.max(0, s[3] - cost) } end
    return s
  end,
}
