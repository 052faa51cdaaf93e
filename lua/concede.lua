--[[
  concede: the caller's player leaves the game (eliminatedReason "concede"), as an
  elimination by the host does (lib/rules.lua eliminate: the turn passes on, the last player
  or team standing wins; in two-headed giant the team concedes together). While the game
  runs or is paused; a waiting game has nothing to concede yet (CONCEDE_NOT_STARTED: leave
  the seat instead), and a finished one is decided (GAME_FINISHED). The running clocks are
  settled first.

  KEYS: the six common game keys (lib/context.lua).
  ARGV: the seven common arguments.
  Returns: {"ok"|"dup", state JSON, events JSON}
  Errors: GAME_NOT_FOUND, NOT_AUTHORIZED_CONCEDE, GAME_FINISHED, CONCEDE_NOT_STARTED,
    PLAYER_ELIMINATED, INVALID_ARGUMENT
  Publishes: any event that came due on the way, gameComplete when the concession decides
    the game (in a campaign: the round, with campaignComplete just before it when that
    decides the campaign), then the new state.
]]
--- @include "lib/context.lua"
--- @include "lib/state.lua"
--- @include "lib/rules.lua"
--- @include "lib/commit.lua"

return run(function()
  local c = context()
  local st, raw, p = seated_caller(c, 'NOT_AUTHORIZED_CONCEDE')
  if not st then
    return { 'dup', raw, '[]' }
  end
  settle(st, c)
  if st.status == 'finished' then
    fail('GAME_FINISHED')
  end
  if st.status == 'waiting' then
    fail('CONCEDE_NOT_STARTED')
  end
  if p.isEliminated then
    fail('PLAYER_ELIMINATED')
  end
  eliminate(st, p, c, 'concede')
  return commit(st, c, 'concede', { playerId = p.id })
end)
