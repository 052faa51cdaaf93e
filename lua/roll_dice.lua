--[[
  roll_dice: roll one die with `sides` faces for everyone at the table. The service draws
  the result from its CSPRNG (Python's `secrets`); this script checks it, commits it (so the
  roll is in the game's log and every instance sends the same one) and publishes it as the
  event `diceRolled`, then the state. A roll changes nothing else in the game, but it is a
  commit like any other: the version goes up by one.

  Who may roll: the host, or anyone holding a seat (a spectator may not). The roller is
  named by their seat's name, "Host" for a host without a seat.

  KEYS: the six common game keys (lib/context.lua).
  ARGV: the seven common arguments, then
    ARGV[8] sides, an integer 2..999
    ARGV[9] result, an integer 1..sides (drawn by the service)
  Returns: {"ok"|"dup", state JSON, events JSON}
  Errors: GAME_NOT_FOUND, NOT_AUTHORIZED_DICE, INVALID_ARGUMENT
  Publishes: the event diceRolled {playerName, sides, result, timestamp}, then the state.
]]
--- @include "lib/context.lua"
--- @include "lib/checks.lua"
--- @include "lib/state.lua"
--- @include "lib/rules.lua"
--- @include "lib/commit.lua"

return run(function()
  local c = context()
  local sides, result = tonumber(ARGV[8]), tonumber(ARGV[9])
  if not is_int(sides, 2, 999) or not is_int(result, 1, sides) then
    fail('INVALID_ARGUMENT')
  end
  local st, raw = load(c)
  if is_dup(c) then
    return { 'dup', raw, '[]' }
  end
  local name = nil
  for _, p in ipairs(st.players) do
    if p.claimedBy == c.client then
      name = p.name
    end
  end
  if not name then
    if not is_host(st, c.client) then
      fail('NOT_AUTHORIZED_DICE')
    end
    name = 'Host'
  end
  settle(st, c)
  c.events[#c.events + 1] = {
    type = 'diceRolled', data = { playerName = name, sides = sides, result = result, timestamp = c.now },
  }
  return commit(st, c, 'rollDice', { sides = sides, result = result, playerName = name })
end)
