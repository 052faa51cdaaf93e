--[[
  end_game: delete the lobby (HEAD's endGame, "Delete Lobby"; host only here: C22). The
  game's keys go at once, with its deadline and lobby index entries, so `join` and
  `reconnect` answer GAME_NOT_FOUND from now on and no deadline fires for it.

  Not a commit(): nothing of the game is left to write. The script publishes on the game's
  channel itself, version + 1 with the event gameEnded {gameId} and the last state (status
  "finished"), so every instance's hub tells its sockets in the game and unbinds them (HEAD
  told only the sockets of its own instance: C37).

  A missing game answers "noop" rather than an error: it is gone, which is what was asked.
  So a retry of an endGame that did run (its action id went with the actions hash) answers
  as the first call did, and deletes nothing else.

  KEYS: the six common game keys (lib/context.lua).
  ARGV: the seven common arguments.
  Returns: {"ok", last state JSON, events JSON} or {"noop", "", "[]"} when the game is gone.
  Errors: NOT_OWNER_END, INVALID_ARGUMENT
  Publishes: "version\n[gameEnded]\nlast state" (not on "noop").
]]
--- @include "lib/context.lua"
--- @include "lib/state.lua"
--- @include "lib/lobby.lua"

return run(function()
  local c = context()
  local raw = rcall('HGET', c.kgame, 'state')
  if not raw then
    return { 'noop', '', '[]' }
  end
  local st = cjson.decode(raw)
  if not is_host(st, c.client) then
    fail('NOT_OWNER_END')
  end
  rcall('DEL', c.kgame, c.klog, c.kacts, c.kundo)
  rcall('ZREM', c.kdue, c.gid)
  unindex_game(c)
  st.version = st.version + 1
  st.status = 'finished'
  st.lastActivity = c.now
  local sj = encode_state(st)
  local ev = cjson.encode({ { type = 'gameEnded', data = { gameId = c.gid } } })
  rcall(c.pub, c.channel, st.version .. '\n' .. ev .. '\n' .. sj)
  return { 'ok', sj, ev }
end)
