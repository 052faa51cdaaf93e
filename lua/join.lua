--[[
  join: read a game's state for a socket that binds to it, and count the join as
  activity (the game's TTL is refreshed). Nothing is published.

  KEYS: the six common game keys (lib/context.lua).
  ARGV: the seven common arguments.
  Returns: {"noop", state JSON, "[]"}
  Errors: GAME_NOT_FOUND, INVALID_ARGUMENT
  Publishes: nothing.
]]
--- @include "lib/context.lua"
--- @include "lib/state.lua"
--- @include "lib/commit.lua"

return run(function()
  local c = context()
  local st, raw = load(c)
  expire(c, st)
  return { 'noop', raw, '[]' }
end)
