--[[
  reset: back to "waiting" with every clock at the initial time, every life at the game's
  starting life (settings.startingLife, 20 for a game stored without one) and penalties,
  counters (poison, energy, experience, commander damage too), eliminations and their
  reasons, pending timeout choices, the interrupt stack, targeting and the winner cleared
  (HEAD kept the winner, C11). The format and loss rules stay. Names, colours, seats and tokens are kept so
  the same table can play again at once (HEAD re-created the players and lost them). In a
  campaign the round it is in starts again, with the preset's life and the round's clock,
  and everything recorded of the rounds before is kept; a completed campaign starts again
  from round 1 (lib/campaign.lua restart_game). As every action, it settles the running
  clocks first: a warning or timeout already due is published with the reset, never lost.

  KEYS: the six common game keys (lib/context.lua).
  ARGV: the seven common arguments.
  Returns: {"ok"|"dup", state JSON, events JSON}
  Errors: GAME_NOT_FOUND, NOT_OWNER_RESET, INVALID_ARGUMENT
  Publishes: the warning/timeout events (and gameComplete, campaignComplete) that were due,
    then the new state.
]]
--- @include "lib/context.lua"
--- @include "lib/state.lua"
--- @include "lib/rules.lua"
--- @include "lib/campaign.lua"
--- @include "lib/commit.lua"

return run(function()
  local c = context()
  local st, raw = load(c)
  if is_dup(c) then
    return { 'dup', raw, '[]' }
  end
  if not is_host(st, c.client) then
    fail('NOT_OWNER_RESET')
  end
  -- the deadline loop finds a waiting game with nothing due, so an event due now fires here
  -- or never
  settle(st, c)
  restart_game(st)
  return commit(st, c, 'reset', nil)
end)
