--[[
  admin_add_time: the host gives a player more time (HEAD's adminAddTime). The running
  clock is charged up to now first, so the addition starts from the exact remaining time
  and no elapsed time is lost or charged twice; the result is capped at 24 h. The deadline
  index follows in the commit (a later warning or timeout).

  KEYS: the six common game keys (lib/context.lua).
  ARGV: the seven common arguments, then
    ARGV[8] player id
    ARGV[9] milliseconds to add, an integer from 60000 to 3600000 (1 to 60 minutes)
  Returns: {"ok"|"dup"|"noop", state JSON, events JSON}; "noop" when the clock is already
    at the cap and nothing came due.
  Errors: GAME_NOT_FOUND, NOT_OWNER_ADMIN, PLAYER_NOT_FOUND, INVALID_ARGUMENT
  Publishes: the new state (not on "noop").
]]
--- @include "lib/context.lua"
--- @include "lib/checks.lua"
--- @include "lib/state.lua"
--- @include "lib/rules.lua"
--- @include "lib/commit.lua"

return run(function()
  local c = context()
  local pid, ms = tonumber(ARGV[8]), tonumber(ARGV[9])
  if not is_int(ms, 60000, 3600000) then
    fail('INVALID_ARGUMENT')
  end
  local st, raw, p = host_on_player(c, pid, 'NOT_OWNER_ADMIN')
  if not st then
    return { 'dup', raw, '[]' }
  end
  settle(st, c)
  local before = p.timeRemaining
  p.timeRemaining = math.min(MAX_TIME, before + ms)
  if p.timeRemaining == before and #c.events == 0 then
    return { 'noop', raw, '[]' }
  end
  return commit(st, c, 'adminAddTime', { playerId = pid, ms = ms })
end)
