--[[
  admin_kick: the host removes whoever holds a seat (HEAD's adminKick). The seat is freed,
  its token deleted (the kicked client cannot reconnect to it: NO_TOKEN) and the player is
  eliminated as by `eliminate` (the turn passes on, the last player standing wins), with
  eliminatedReason "kicked" (in two-headed giant with their teammate, as every elimination). In a
  finished game the result stands: the seat and token are cleared, nobody is eliminated.

  The `kicked {playerId}` event is addressed to the kicked client alone (its `to` field,
  which the hub removes before sending: lua/README.md "Events"); it comes before any event
  of the elimination, and the state after them. HEAD's `kicked` carried `{}`: the seat is
  named so that the client knows which one it lost (and an empty Lua table would encode as
  `[]` on fakeredis).

  KEYS: the six common game keys (lib/context.lua).
  ARGV: the seven common arguments, then
    ARGV[8] player id
  Returns: {"ok"|"dup", state JSON, events JSON}
  Errors: GAME_NOT_FOUND, NOT_OWNER_ADMIN, PLAYER_NOT_FOUND, PLAYER_NOT_CLAIMED, INVALID_ARGUMENT
  Publishes: `kicked {playerId}` to the kicked client, then the new state.
]]
--- @include "lib/context.lua"
--- @include "lib/state.lua"
--- @include "lib/rules.lua"
--- @include "lib/commit.lua"

return run(function()
  local c = context()
  local pid = tonumber(ARGV[8])
  local st, raw, p = host_on_player(c, pid, 'NOT_OWNER_ADMIN')
  if not st then
    return { 'dup', raw, '[]' }
  end
  if is_null(p.claimedBy) then
    fail('PLAYER_NOT_CLAIMED')
  end
  settle(st, c)
  local kicked = p.claimedBy
  p.claimedBy = NULL
  rcall('HDEL', c.kgame, 'tok:' .. pid, 'exp:' .. pid)
  if st.hostSeat == pid then
    -- the host kicked their own seat: the role is bound to no seat any more (lib/host.lua)
    st.hostSeat = NULL
  end
  c.events[#c.events + 1] = { type = 'kicked', data = { playerId = pid }, to = kicked }
  if st.status ~= 'finished' and not p.isEliminated then
    eliminate(st, p, c, 'kicked')
  end
  return commit(st, c, 'adminKick', { playerId = pid, client = kicked })
end)
