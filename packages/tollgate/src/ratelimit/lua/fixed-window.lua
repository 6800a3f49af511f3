-- Fixed window aligned to the epoch; state (windowStart, count). The twin of algorithms/fixed-window.ts.
-- evaluate returns allowed, remaining, resetMs, retryAfterMs, then the state if admitted.
algorithms['fixed-window'] = {
  evaluate = function(a, b, _, limit, window, _, cost, now)
    local start = now - (now % window)
    local count = 0
    if a == start then count = b end
    local reset = start + window - now
    if count + cost <= limit then
      return 1, limit - count - cost, reset, 0, start, count + cost, 0
    end
    return 0, math.max(0, limit - count), reset, reset
  end,
  -- Only a cost consumed (at `at`) in the current window is still counted.
  refund = function(a, b, c, _, window, cost, now, at)
    if a == now - (now % window) and at >= a then return a, math.max(0, b - cost), 0 end
    return a, b, c
  end,
}
