-- Token bucket; state {debt, updatedAt}. The twin of algorithms/token-bucket.ts.
algorithms['token-bucket'] = {
  evaluate = function(s, limit, window, burst, cost, now)
    local debt = math.max(0, s[1] - math.max(0, now - s[2]) * limit)
    local capacity = burst * window
    local after = debt + cost * window
    if after <= capacity then
      return 1, math.floor((capacity - after) / window), math.ceil(after / limit), 0, { after, now, 0 }
    end
    return 0, math.floor((capacity - debt) / window), math.ceil(debt / limit), math.ceil((after - capacity) / limit), nil
  end,
  refund = function(s, limit, window, cost, now)
    local debt = math.max(0, s[1] - math.max(0, now - s[2]) * limit)
    return { math.max(0, debt - cost * window), now, 0 }
  end,
}
