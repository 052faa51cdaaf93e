--[[
  rename_game: give the lobby a new name (HEAD's renameGame, host only here: C22).

  KEYS: the six common game keys (lib/context.lua).
  ARGV: the seven common arguments, then
    ARGV[8] the new name: trimmed, 1-50 characters, no control character (the service
            turns a blank name into "Game" before it gets here)
  Returns: {"ok"|"dup"|"noop", state JSON, events JSON}; "noop" when the name is unchanged.
  Errors: GAME_NOT_FOUND, NOT_OWNER_RENAME, INVALID_ARGUMENT
  Publishes: the new state (not on "noop").
]]
--- @include "lib/context.lua"
--- @include "lib/state.lua"
--- @include "lib/rules.lua"
--- @include "lib/lobby.lua"
--- @include "lib/commit.lua"

return run(function()
  local c = context()
  local name = ARGV[8]
  if not is_game_name(name) then
    fail('INVALID_ARGUMENT')
  end
  local st, raw = load(c)
  if is_dup(c) then
    return { 'dup', raw, '[]' }
  end
  if not is_host(st, c.client) then
    fail('NOT_OWNER_RENAME')
  end
  if st.name == name then
    return { 'noop', raw, '[]' }
  end
  settle(st, c)
  st.name = name
  return commit(st, c, 'renameGame', { name = name })
end)
