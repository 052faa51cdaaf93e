--[[
  transfer_host: the host gives the host role to the client holding a seat. From now on the
  role goes with that seat's token (lib/host.lua `hostSeat`: the new host gets it back by
  reconnecting with the seat token after a reload), and the host token stops working, so the
  old host cannot take the role back. Not undoable.

  The `hostGranted {playerId}` event is addressed to the new host alone (its `to` field,
  which the hub removes before sending: lua/README.md "Events"), so that its socket knows.

  KEYS: the six common game keys (lib/context.lua).
  ARGV: the seven common arguments, then
    ARGV[8] player id of the seat whose holder becomes host
  Returns: {"ok"|"dup", state JSON, events JSON}
  Errors: GAME_NOT_FOUND, NOT_OWNER_TRANSFER, PLAYER_NOT_FOUND, PLAYER_NOT_CLAIMED, ALREADY_HOST,
    INVALID_ARGUMENT
  Publishes: `hostGranted {playerId}` to the new host, then the new state.
]]
--- @include "lib/context.lua"
--- @include "lib/state.lua"
--- @include "lib/rules.lua"
--- @include "lib/host.lua"
--- @include "lib/commit.lua"

return run(function()
  local c = context()
  local pid = tonumber(ARGV[8])
  if not pid then
    fail('INVALID_ARGUMENT')
  end
  local st, raw, p = host_on_player(c, pid, 'NOT_OWNER_TRANSFER')
  if not st then
    return { 'dup', raw, '[]' }
  end
  if is_null(p.claimedBy) then
    fail('PLAYER_NOT_CLAIMED')
  end
  if p.claimedBy == c.client then
    fail('ALREADY_HOST')
  end
  settle(st, c)
  local to = p.claimedBy
  make_host(st, c, to, pid)
  c.events[#c.events + 1] = { type = 'hostGranted', data = { playerId = pid }, to = to }
  return commit(st, c, 'transferHost', { playerId = pid, client = to })
end)
