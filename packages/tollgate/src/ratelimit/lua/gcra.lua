-- GCRA; state (tatMs, tatFraction in 1/limit ms). The twin of algorithms/gcra.ts.
-- evaluate returns allowed, remaining, resetMs, retryAfterMs, then the state if admitted.
algorithms['gcra'] = {
  evaluate = function(a, b, _, limit, window, burst, cost, now)
    local backlog = math.max(0, (a - now) * limit + b)
    local tolerance = burst * window
    local after = backlog + cost * window
    if after <= tolerance then
      local whole = math.floor(after / limit)
      return 1, math.floor((tolerance - after) / window), math.ceil(after / limit), 0, now + whole,
        after - whole * limit, 0
    end
    return 0, math.floor((tolerance - backlog) / window), math.ceil(backlog / limit),
      math.ceil((after - tolerance) / limit)
  end,
  -- Gives back what is left at `now` of `cost` consumed at `at` (see token-bucket.lua).
  refund = function(a, b, _, limit, window, cost, now, at)
    local left = math.max(0, cost * window - math.max(0, now - at) * limit)
    local backlog = math.max(0, (a - now) * limit + b - left)
    local whole = math.floor(backlog / limit)
    return now + whole, backlog - whole * limit, 0
  end,
}
