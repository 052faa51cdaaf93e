--[[
  rate_limit: one frame or connection attempt against up to four limits of one client IP,
  shared by every instance. Each limit is a GCRA ("generic cell rate algorithm"): the key
  holds the theoretical arrival time (TAT) of the next unit, in microseconds of Redis
  TIME, so a limit of N per period P lets a burst of N through and then one every P/N.
  All limits must allow the unit or none of them is charged: a refused attempt costs the
  client nothing, unlike the original's fixed windows, which counted refusals too.

  KEYS: one key per limit, all of the same IP (same hash tag, so one Cluster slot).
  ARGV: for each key in order, two integers: emission interval in us (P/N) and period
    in us (P).
  Returns: {1, 0} when allowed (every limit charged), {0, retry_after_ms} when refused
    (nothing charged; retry_after_ms is when the tightest refusing limit frees a unit).
  Errors: INVALID_ARGUMENT
  Publishes: nothing.
]]
local rcall = redis.call
if #KEYS == 0 or #ARGV ~= 2 * #KEYS then
  return redis.error_reply('INVALID_ARGUMENT')
end
local t = rcall('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local new_tats, retry = {}, 0
for i = 1, #KEYS do
  local interval, period = tonumber(ARGV[2 * i - 1]), tonumber(ARGV[2 * i])
  if not interval or not period or interval < 1 or period < interval then
    return redis.error_reply('INVALID_ARGUMENT')
  end
  local tat = tonumber(rcall('GET', KEYS[i])) or now
  if tat < now then
    tat = now
  end
  local new_tat = tat + interval
  if new_tat - now > period then
    -- the unit would arrive before the bucket drains enough: refuse, charge nothing
    retry = math.max(retry, new_tat - now - period)
  end
  new_tats[i] = new_tat
end
if retry > 0 then
  return { 0, math.ceil(retry / 1000) }
end
for i = 1, #KEYS do
  -- the key is only needed until its TAT has passed; then it reads as "no history"
  rcall('SET', KEYS[i], string.format('%d', new_tats[i]), 'PX', math.ceil((new_tats[i] - now) / 1000) + 1)
end
return { 1, 0 }
