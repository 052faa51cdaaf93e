--[[
  pause: toggle, as the original: "running" -> "paused" (the running clock is charged up
  to now, and the grace of a pending timeout choice stands still), "paused" -> "running"
  (as start, with each pending choice sent again with its new deadline). Nothing happens
  while waiting or finished.

  KEYS: the six common game keys (lib/context.lua).
  ARGV: the seven common arguments.
  Returns: {"ok"|"dup"|"noop", state JSON, events JSON}
  Errors: GAME_NOT_FOUND, NOT_AUTHORIZED_PAUSE, INVALID_ARGUMENT
  Publishes: on resume, turnCapped when the turn's cap was reached as the game paused (the
    turn passes at once: lib/rules.lua pass_capped) and a timeoutChoice for each pending
    choice; then the new state (not on "noop").
]]
--- @include "lib/context.lua"
--- @include "lib/state.lua"
--- @include "lib/rules.lua"
--- @include "lib/commit.lua"

return run(function()
  local c = context()
  local st, raw = load(c)
  if is_dup(c) then
    return { 'dup', raw, '[]' }
  end
  if not is_host(st, c.client) and not holds_any(st, c.client) then
    fail('NOT_AUTHORIZED_PAUSE')
  end
  local was = st.status
  settle(st, c)
  if was == 'running' and st.status == 'running' then
    st.status = 'paused'
    return commit(st, c, 'pause', nil)
  end
  if was == 'running' then
    -- the clock ran out while nobody looked: the timeout is what this action commits
    return commit(st, c, 'timeout', nil)
  end
  if st.status == 'paused' then
    st.status = 'running'
    ensure_active(st)
    pass_capped(st, c)
    announce_choices(st, c)
    return commit(st, c, 'resume', nil)
  end
  return { 'noop', raw, '[]' }
end)
