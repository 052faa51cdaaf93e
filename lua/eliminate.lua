--[[
  eliminate: take a player out. If they were active the turn passes to the next player
  in turn order who is still in; when one player is left the game is "finished" with
  that player as `winner` (none if nobody is left). The reason kept is "host"; in
  two-headed giant the teammate goes out too (lib/rules.lua eliminate).

  KEYS: the six common game keys (lib/context.lua).
  ARGV: the seven common arguments, then
    ARGV[8] player id
  Returns: {"ok"|"dup"|"noop", state JSON, events JSON}; "noop" if already eliminated.
  Errors: GAME_NOT_FOUND, NOT_OWNER_ELIMINATE, PLAYER_NOT_FOUND, GAME_FINISHED, INVALID_ARGUMENT
  Publishes: gameComplete {winnerId, winnerName} when the game is decided, then the new
    state (not on "noop").
]]
--- @include "lib/context.lua"
--- @include "lib/state.lua"
--- @include "lib/rules.lua"
--- @include "lib/commit.lua"

return run(function()
  local c = context()
  local pid = tonumber(ARGV[8])
  local st, raw, p = host_on_player(c, pid, 'NOT_OWNER_ELIMINATE')
  if not st then
    return { 'dup', raw, '[]' }
  end
  settle(st, c)
  if st.status == 'finished' then
    fail('GAME_FINISHED')
  end
  if p.isEliminated and #c.events == 0 then
    return { 'noop', raw, '[]' }
  end
  if not p.isEliminated then
    eliminate(st, p, c, 'host')
  end
  return commit(st, c, 'eliminate', { playerId = pid })
end)
