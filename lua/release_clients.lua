--[[
  release_clients: clear the seats held by the clients of an instance that died (no socket
  of it can still be open). Tokens are kept, so those players take their seats back with
  `reconnect`; meanwhile, in a waiting game, others may claim the seats. A host among
  those clients is away from now (lib/host.lua `hostAwaySince`). Run by whichever
  instance first notices the dead one (service/liveness.py).

  KEYS: the six common game keys (lib/context.lua).
  ARGV: the seven common arguments (client id ''), then
    ARGV[8] client id prefix of the dead instance ("client_<incarnation>_")
  Returns: {"ok"|"noop", state JSON, events JSON}; "noop" when no seat matched and the host
    is not one of those clients (or already away).
  Errors: GAME_NOT_FOUND, INVALID_ARGUMENT
  Publishes: the new state (not on "noop").
]]
--- @include "lib/context.lua"
--- @include "lib/state.lua"
--- @include "lib/rules.lua"
--- @include "lib/host.lua"
--- @include "lib/commit.lua"

return run(function()
  local c = context()
  local prefix = ARGV[8]
  if #prefix < 8 then
    fail('INVALID_ARGUMENT')
  end
  local st, raw = load(c)
  local changed = false
  for _, p in ipairs(st.players) do
    if type(p.claimedBy) == 'string' and string.sub(p.claimedBy, 1, #prefix) == prefix then
      p.claimedBy = NULL
      changed = true
    end
  end
  if type(st.ownerId) == 'string' and string.sub(st.ownerId, 1, #prefix) == prefix and host_away(st, c) then
    changed = true
  end
  if not changed then
    return { 'noop', raw, '[]' }
  end
  settle(st, c)
  return commit(st, c, 'release', nil)
end)
