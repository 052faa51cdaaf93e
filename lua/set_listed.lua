--[[
  set_listed: the host lists or unlists the game in the lobby list (GET /api/games). Our
  addition: HEAD listed every game. An unlisted game can still be joined by its code.

  KEYS: the six common game keys (lib/context.lua).
  ARGV: the seven common arguments, then
    ARGV[8] "1" (listed) or "0" (unlisted)
  Returns: {"ok"|"dup"|"noop", state JSON, events JSON}; "noop" when it already is so.
  Errors: GAME_NOT_FOUND, NOT_OWNER_LISTING, INVALID_ARGUMENT
  Publishes: the new state (not on "noop"); the lobby index is updated by the commit.
]]
--- @include "lib/context.lua"
--- @include "lib/state.lua"
--- @include "lib/rules.lua"
--- @include "lib/commit.lua"

return run(function()
  local c = context()
  local flag = ARGV[8]
  if flag ~= '1' and flag ~= '0' then
    fail('INVALID_ARGUMENT')
  end
  local listed = flag == '1'
  local st, raw = load(c)
  if is_dup(c) then
    return { 'dup', raw, '[]' }
  end
  if not is_host(st, c.client) then
    fail('NOT_OWNER_LISTING')
  end
  -- a game made before the flag existed is listed
  if (st.listed ~= false) == listed then
    return { 'noop', raw, '[]' }
  end
  settle(st, c)
  st.listed = listed
  return commit(st, c, 'setListed', { listed = listed })
end)
