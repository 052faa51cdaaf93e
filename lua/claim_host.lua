--[[
  claim_host: a seated player takes the host role from a host who has been away (no socket
  in the game: lib/host.lua `hostAwaySince`) for at least `settings.hostTimeout` ms (120000
  when the game has none). The role then works exactly as after transferHost: it goes with
  the caller's seat token, and the old host's token stops working. Not undoable.

  How long is left is in the state: `hostAwaySince` + the timeout - `serverTime`.

  KEYS: the six common game keys (lib/context.lua).
  ARGV: the seven common arguments.
  Returns: {"ok"|"dup", state JSON, events JSON}
  Errors: GAME_NOT_FOUND, NOT_AUTHORIZED_CLAIM_HOST, ALREADY_HOST, HOST_PRESENT, HOST_AWAY_TOO_SHORT,
    INVALID_ARGUMENT
  Publishes: the new state.
]]
--- @include "lib/context.lua"
--- @include "lib/state.lua"
--- @include "lib/rules.lua"
--- @include "lib/host.lua"
--- @include "lib/commit.lua"

return run(function()
  local c = context()
  local st, raw, p = seated_caller(c, 'NOT_AUTHORIZED_CLAIM_HOST')
  if not st then
    return { 'dup', raw, '[]' }
  end
  if is_host(st, c.client) then
    fail('ALREADY_HOST')
  end
  if is_null(st.hostAwaySince) then
    fail('HOST_PRESENT')
  end
  if c.now - st.hostAwaySince < host_timeout(st) then
    fail('HOST_AWAY_TOO_SHORT')
  end
  settle(st, c)
  local from = st.ownerId
  make_host(st, c, c.client, p.id)
  return commit(st, c, 'claimHost', { playerId = p.id, client = from })
end)
