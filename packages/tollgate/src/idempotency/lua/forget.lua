-- Delete the record if it is completed. KEYS[1] the record.
-- Returns 1 when deleted, 0 when there is none or it is in flight or released.
if redis.call('HGET', KEYS[1], 'st') ~= 'completed' then return 0 end
redis.call('DEL', KEYS[1])
return 1
