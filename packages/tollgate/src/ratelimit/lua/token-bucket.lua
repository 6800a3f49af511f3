-- Token bucket; state (debt, updatedAt). The twin of algorithms/token-bucket.ts.
-- evaluate returns allowed, remaining, resetMs, retryAfterMs, then the state if admitted.
algorithms['token-bucket'] = {
  evaluate = function(a, b, _, limit, window, burst, cost, now)
    local debt = math.max(0, a - math.max(0, now - b) * limit)
    local capacity = burst * window
    local after = debt + cost * window
    if after <= capacity then
      return 1, math.floor((capacity - after) / window), math.ceil(after / limit), 0, after, now, 0
    end
    return 0, math.floor((capacity - debt) / window), math.ceil(debt / limit), math.ceil((after - capacity) / limit)
  end,
  -- Gives back what is left at `now` of `cost` consumed at `at`: the refill since then has
  -- already paid part of it, so a late refund never forgives another request's units.
  refund = function(a, b, _, limit, window, cost, now, at)
    local debt = math.max(0, a - math.max(0, now - b) * limit)
    local left = math.max(0, cost * window - math.max(0, now - at) * limit)
    return math.max(0, debt - left), now, 0
  end,
}
