--[[
  unclaim: give up every seat this client holds. While the game is waiting the seat's
  token is cleared so another player can take it; once it has started the token is kept,
  so the player can come back with `reconnect` (unless a spectator claims the free seat first).

  KEYS: the six common game keys (lib/context.lua).
  ARGV: the seven common arguments.
  Returns: {"ok"|"dup"|"noop", state JSON, events JSON}; "noop" when no seat was held.
  Errors: GAME_NOT_FOUND, INVALID_ARGUMENT
  Publishes: the new state (not on "noop").
]]
--- @include "lib/context.lua"
--- @include "lib/state.lua"
--- @include "lib/rules.lua"
--- @include "lib/seats.lua"
--- @include "lib/commit.lua"

return run(function()
  local c = context()
  local st, raw = load(c)
  if is_dup(c) then
    return { 'dup', raw, '[]' }
  end
  if not holds_any(st, c.client) then
    return { 'noop', raw, '[]' }
  end
  settle(st, c)
  release_claims(st, c, st.status == 'waiting')
  return commit(st, c, 'unclaim', nil)
end)
