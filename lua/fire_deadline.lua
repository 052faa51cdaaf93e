--[[
  fire_deadline: apply whatever is due in one game now: every warning threshold the
  active clock has crossed and the timeout when it reached zero (lib/rules.lua settle).
  The state itself decides what is due, so running this twice, early, or from several
  instances fires each warning and timeout exactly once. When nothing is due the
  deadline entry is rewritten to the game's true next due time (or removed).

  KEYS: the five common game keys (lib/context.lua).
  ARGV: the seven common arguments (action id and client id are '').
  Returns: {"ok", state JSON, events JSON} when something fired, {"noop", "", "[]"}
    otherwise (also when the game no longer exists; its entry is removed).
  Errors: INVALID_ARGUMENT
  Publishes: the warning/timeout events (and gameComplete when a game_loss timeout decides
    the game), then the new state, when something fired.
]]
--- @include "lib/context.lua"
--- @include "lib/rules.lua"
--- @include "lib/commit.lua"

return run(function()
  local c = context()
  local raw = rcall('HGET', c.kgame, 'state')
  if not raw then
    rcall('ZREM', c.kdue, c.gid)
    return { 'noop', '', '[]' }
  end
  local st = cjson.decode(raw)
  settle(st, c)
  if #c.events == 0 then
    -- nothing changed; only the index entry may need correcting
    schedule(st, c)
    return { 'noop', '', '[]' }
  end
  return commit(st, c, 'deadline', nil)
end)
