--[[
  free_seat: the host frees a seat, in any status: whoever holds it loses it, and its token
  is deleted (the client cannot reconnect to it: NO_TOKEN), so anyone may claim it, but,
  unlike adminKick, the player stays in the game. A seat nobody holds but whose absent
  player still has a token may be freed too (the token goes). A host role bound to the seat
  (lib/host.lua `hostSeat`) is bound to no seat any more. Not undoable.

  The `seatFreed {playerId}` event is addressed to the client that held the seat, if any.

  KEYS: the six common game keys (lib/context.lua).
  ARGV: the seven common arguments, then
    ARGV[8] player id
  Returns: {"ok"|"dup", state JSON, events JSON}
  Errors: GAME_NOT_FOUND, NOT_OWNER_SEATS, PLAYER_NOT_FOUND, PLAYER_NOT_CLAIMED, INVALID_ARGUMENT
  Publishes: `seatFreed {playerId}` to the client that held the seat (if one did), then the
    new state.
]]
--- @include "lib/context.lua"
--- @include "lib/state.lua"
--- @include "lib/rules.lua"
--- @include "lib/commit.lua"

return run(function()
  local c = context()
  local pid = tonumber(ARGV[8])
  if not pid then
    fail('INVALID_ARGUMENT')
  end
  local st, raw, p = host_on_player(c, pid, 'NOT_OWNER_SEATS')
  if not st then
    return { 'dup', raw, '[]' }
  end
  if is_null(p.claimedBy) and rcall('HEXISTS', c.kgame, 'tok:' .. pid) == 0 then
    fail('PLAYER_NOT_CLAIMED')
  end
  settle(st, c)
  local held = p.claimedBy
  p.claimedBy = NULL
  rcall('HDEL', c.kgame, 'tok:' .. pid, 'exp:' .. pid)
  if st.hostSeat == pid then
    st.hostSeat = NULL
  end
  if not is_null(held) then
    c.events[#c.events + 1] = { type = 'seatFreed', data = { playerId = pid }, to = held }
  end
  return commit(st, c, 'freeSeat', { playerId = pid, client = held })
end)
