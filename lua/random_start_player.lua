--[[
  random_start_player: before the game starts, make a random eligible player (seated and
  not eliminated) the active one, so their clock runs first. The service draws the choice
  from its CSPRNG (Python's `secrets`); the chosen player is committed in the game's log and
  published as the event `randomPlayerSelected`, then the state.

  Who may do it: the host (it changes who starts; HEAD let anyone).

  KEYS: the six common game keys (lib/context.lua).
  ARGV: the seven common arguments, then
    ARGV[8] a uniform draw, an integer 0..839; the eligible player at (draw mod count) in
            seat order is chosen. 840 is a multiple of every count from 1 to 8, so each
            eligible player is exactly equally likely.
  Returns: {"ok"|"dup", state JSON, events JSON}
  Errors: GAME_NOT_FOUND, NOT_OWNER_RANDOM_START, RANDOM_START_NOT_WAITING,
    NO_ELIGIBLE_PLAYERS, INVALID_ARGUMENT
  Publishes: the event randomPlayerSelected {playerId, playerName}, then the state.
]]
--- @include "lib/context.lua"
--- @include "lib/checks.lua"
--- @include "lib/state.lua"
--- @include "lib/rules.lua"
--- @include "lib/commit.lua"

local DRAW_RANGE = 840

return run(function()
  local c = context()
  local draw = tonumber(ARGV[8])
  if not is_int(draw, 0, DRAW_RANGE - 1) then
    fail('INVALID_ARGUMENT')
  end
  local st, raw = load(c)
  if is_dup(c) then
    return { 'dup', raw, '[]' }
  end
  if not is_host(st, c.client) then
    fail('NOT_OWNER_RANDOM_START')
  end
  settle(st, c)
  if st.status ~= 'waiting' then
    fail('RANDOM_START_NOT_WAITING')
  end
  local eligible = {}
  for _, p in ipairs(st.players) do
    if not is_null(p.claimedBy) and not p.isEliminated then
      eligible[#eligible + 1] = p
    end
  end
  if #eligible == 0 then
    fail('NO_ELIGIBLE_PLAYERS')
  end
  local chosen = eligible[(draw % #eligible) + 1]
  st.activePlayer = chosen.id
  c.events[#c.events + 1] = { type = 'randomPlayerSelected', data = { playerId = chosen.id, playerName = chosen.name } }
  return commit(st, c, 'randomStartPlayer', { playerId = chosen.id })
end)
