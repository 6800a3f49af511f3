-- Fixed window aligned to the epoch; state {windowStart, count}. The twin of algorithms/fixed-window.ts.
algorithms['fixed-window'] = {
  evaluate = function(s, limit, window, burst, cost, now)
    local start = now - (now % window)
    local count = 0
    if s[1] == start then count = s[2] end
    local reset = start + window - now
    if count + cost <= limit then
      return 1, limit - count - cost, reset, 0, { start, count + cost, 0 }
    end
    return 0, math.max(0, limit - count), reset, reset, nil
  end,
  refund = function(s, limit, window, cost, now)
    if s[1] == now - (now % window) then return { s[1], math.max(0, s[2] - cost), 0 } end
    return s
  end,
}
