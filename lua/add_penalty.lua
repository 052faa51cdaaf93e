--[[
  add_penalty: count a penalty against a player and apply the game's penalty type:
  "warning" nothing more; "time_deduction" takes penaltyTimeDeduction off the clock (never
  below zero); "game_loss" eliminates the player (the turn passes on, the last player
  standing wins).

  KEYS: the six common game keys (lib/context.lua).
  ARGV: the seven common arguments, then
    ARGV[8] player id
  Returns: {"ok"|"dup", state JSON, events JSON}
  Errors: GAME_NOT_FOUND, NOT_OWNER_PENALTY, PLAYER_NOT_FOUND, GAME_FINISHED, INVALID_ARGUMENT
  Publishes: gameComplete {winnerId, winnerName} when a game_loss decides the game, then
    the new state.
]]
--- @include "lib/context.lua"
--- @include "lib/state.lua"
--- @include "lib/rules.lua"
--- @include "lib/commit.lua"

return run(function()
  local c = context()
  local pid = tonumber(ARGV[8])
  local st, raw, p = host_on_player(c, pid, 'NOT_OWNER_PENALTY')
  if not st then
    return { 'dup', raw, '[]' }
  end
  settle(st, c)
  if st.status == 'finished' then
    fail('GAME_FINISHED')
  end
  p.penalties = p.penalties + 1
  apply_penalty(st, p, c)
  return commit(st, c, 'addPenalty', { playerId = pid })
end)
