--[[
  fire_deadline: apply whatever is due in one game now: every warning threshold a running
  clock has crossed, the timeout when it reached zero, the turn cap's warning and pass
  (lib/rules.lua run_turn), and the "die" of each pending timeout choice whose grace has run
  out (lib/rules.lua settle). The state itself decides what is due, so running this twice,
  early, or from several instances fires each warning, timeout, cap point and expiry exactly
  once. When nothing is due the deadline entry is rewritten to the game's true next due time
  (or removed).

  KEYS: the six common game keys (lib/context.lua).
  ARGV: the seven common arguments (action id and client id are '').
  Returns: {"ok", state JSON, events JSON} when something fired, {"noop", "", "[]"}
    otherwise (also when the game no longer exists; its entry is removed).
  Errors: INVALID_ARGUMENT
  Publishes: the warning/timeout/timeoutChoice/turnCapWarning/turnCapped events (with
    targetingCanceled when the cap ends a selection, and gameComplete when a game_loss
    timeout or a choice run out decides the game), then the new state, when something fired.
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
  local expired = settle(st, c)
  if #c.events == 0 and not expired then
    -- nothing changed; only the index entry may need correcting
    schedule(st, c)
    return { 'noop', '', '[]' }
  end
  return commit(st, c, 'deadline', nil)
end)
