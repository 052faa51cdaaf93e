--[[
  start: run the clock from "waiting" or "paused". The active player is kept if still in
  the game, otherwise the next one in turn order (never an eliminated player). From
  "waiting" that player begins turn 1 of round 1 (lib/clocks.lua begin_turn). Each pending
  timeout choice's grace runs again from what was left, and its new deadline is sent again
  (`timeoutChoice`).

  KEYS: the six common game keys (lib/context.lua).
  ARGV: the seven common arguments.
  Returns: {"ok"|"dup"|"noop", state JSON, events JSON}; "noop" when already running.
  Errors: GAME_NOT_FOUND, NOT_AUTHORIZED_START, GAME_FINISHED, INVALID_ARGUMENT
  Publishes: turnCapped when the turn's cap was reached as the game paused (the turn passes
    at once: lib/rules.lua pass_capped), a timeoutChoice for each pending choice, then the
    new state (not on "noop").
]]
--- @include "lib/context.lua"
--- @include "lib/state.lua"
--- @include "lib/rules.lua"
--- @include "lib/clocks.lua"
--- @include "lib/commit.lua"

return run(function()
  local c = context()
  local st, raw = load(c)
  if is_dup(c) then
    return { 'dup', raw, '[]' }
  end
  if not is_host(st, c.client) and not holds_any(st, c.client) then
    fail('NOT_AUTHORIZED_START')
  end
  settle(st, c)
  if st.status == 'finished' then
    fail('GAME_FINISHED')
  end
  if st.status == 'running' then
    return { 'noop', raw, '[]' }
  end
  local first = st.status == 'waiting'
  st.status = 'running'
  ensure_active(st)
  if first and not is_null(st.activePlayer) then
    begin_turn(st, st.activePlayer, nil)
  end
  pass_capped(st, c)
  announce_choices(st, c)
  return commit(st, c, 'start', nil)
end)
