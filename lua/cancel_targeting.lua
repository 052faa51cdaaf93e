--[[
  cancel_targeting: targeting ends unfinished (HEAD's cancelTargeting, B6.2): the active
  player may cancel a selection, the original player targets that are responding. The
  fields are cleared and the turn is the original player's (the one who started it); the
  clocks that ran are charged up to now first, and from then on the active player's runs.

  HEAD's checks in HEAD's order. With no targeting at all HEAD answered nothing; this
  answers "noop" (the sender gets the state, nothing is written). Allowed while interrupts
  are pending, and in any status.

  KEYS: the six common game keys (lib/context.lua).
  ARGV: the seven common arguments.
  Returns: {"ok"|"dup"|"noop", state JSON, events JSON}
  Errors: GAME_NOT_FOUND, NOT_AUTHORIZED_CANCEL, CANNOT_CANCEL_TARGETING, INVALID_ARGUMENT
  Publishes: any warning or timeout that came due on the way, then targetingCanceled
    {activePlayer}, then the new state (not on "noop").
]]
--- @include "lib/context.lua"
--- @include "lib/state.lua"
--- @include "lib/rules.lua"
--- @include "lib/targeting.lua"
--- @include "lib/commit.lua"

return run(function()
  local c = context()
  local st, raw = load(c)
  if is_dup(c) then
    return { 'dup', raw, '[]' }
  end
  settle(st, c)
  local state = targeting(st).targetingState
  if state == 'none' then
    return { 'noop', raw, '[]' }
  end
  local me = seat_of(st, c.client)
  if not me then
    fail('NOT_AUTHORIZED_CANCEL')
  end
  local mine = (state == 'selecting' and st.activePlayer == me.id)
    or (state == 'resolving' and st.originalActivePlayer == me.id)
  if not mine then
    fail('CANNOT_CANCEL_TARGETING')
  end
  cancel_targeting(st, c)
  return commit(st, c, 'cancelTargeting', nil)
end)
