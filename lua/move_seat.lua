--[[
  move_seat: the host moves whoever holds one seat to a free seat, in any status (a player
  who sat down at the wrong place, or swapped chairs mid-game). The client keeps playing,
  now as the other seat: its claim and its seat token move (so a reload reconnects it to the
  new seat: reconnect.lua finds a moved token), and the host role goes along if it was bound
  to the old seat (lib/host.lua `hostSeat`). Each seat keeps its own player: name, colour,
  life, clock and counters stay where they are. The target seat must be free; once the game
  has started it must be a player still in the game. A token the free seat still held (an
  absent player's) is replaced. Not undoable.

  The `seatMoved {fromPlayerId, toPlayerId}` event is addressed to the moved client alone.

  KEYS: the six common game keys (lib/context.lua).
  ARGV: the seven common arguments, then
    ARGV[8] player id of the seat to move from (held)
    ARGV[9] player id of the seat to move to (free; another seat)
  Returns: {"ok"|"dup", state JSON, events JSON}
  Errors: GAME_NOT_FOUND, NOT_OWNER_SEATS, PLAYER_NOT_FOUND, PLAYER_NOT_CLAIMED, PLAYER_CLAIMED,
    PLAYER_ELIMINATED, INVALID_ARGUMENT
  Publishes: `seatMoved {fromPlayerId, toPlayerId}` to the moved client, then the new state.
]]
--- @include "lib/context.lua"
--- @include "lib/state.lua"
--- @include "lib/rules.lua"
--- @include "lib/commit.lua"

return run(function()
  local c = context()
  local from_id, to_id = tonumber(ARGV[8]), tonumber(ARGV[9])
  if not from_id or not to_id or from_id == to_id then
    fail('INVALID_ARGUMENT')
  end
  local st, raw, p = host_on_player(c, from_id, 'NOT_OWNER_SEATS')
  if not st then
    return { 'dup', raw, '[]' }
  end
  local q = player(st, to_id)
  if not q then
    fail('PLAYER_NOT_FOUND')
  end
  if is_null(p.claimedBy) then
    fail('PLAYER_NOT_CLAIMED')
  end
  if not is_null(q.claimedBy) then
    fail('PLAYER_CLAIMED')
  end
  if st.status ~= 'waiting' and q.isEliminated then
    fail('PLAYER_ELIMINATED')
  end
  settle(st, c)
  local who = p.claimedBy
  local tok = rcall('HMGET', c.kgame, 'tok:' .. from_id, 'exp:' .. from_id)
  rcall('HDEL', c.kgame, 'tok:' .. from_id, 'exp:' .. from_id, 'tok:' .. to_id, 'exp:' .. to_id)
  if tok[1] and tok[2] then
    rcall('HSET', c.kgame, 'tok:' .. to_id, tok[1], 'exp:' .. to_id, tok[2])
  end
  p.claimedBy, q.claimedBy = NULL, who
  if st.hostSeat == to_id then
    st.hostSeat = NULL
  elseif st.hostSeat == from_id then
    st.hostSeat = to_id
  end
  c.events[#c.events + 1] = { type = 'seatMoved', data = { fromPlayerId = from_id, toPlayerId = to_id }, to = who }
  return commit(st, c, 'moveSeat', { fromPlayerId = from_id, toPlayerId = to_id, client = who })
end)
