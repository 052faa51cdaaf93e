--[[
  leave: a socket stops serving this game, because its client said `leave`, bound to
  another game, or disconnected. Its seats are released; tokens are kept so the player can
  come back with `reconnect`, except after an explicit leave while the game is waiting,
  when the seat is given up for others. Host rights stay with the host token (or the host's
  seat token: lib/host.lua); when the caller is the host, the host is away from now
  (`hostAwaySince`), which after `settings.hostTimeout` lets a seated player take the role.

  KEYS: the six common game keys (lib/context.lua).
  ARGV: the seven common arguments, then
    ARGV[8] "leave" (explicit) or "disconnect" (socket gone or rebound)
  Returns: {"ok"|"dup"|"noop", state JSON, events JSON}; "noop" when no seat was held and
    the caller is not the host (or the host already away).
  Errors: GAME_NOT_FOUND, INVALID_ARGUMENT
  Publishes: the new state (not on "noop").
]]
--- @include "lib/context.lua"
--- @include "lib/state.lua"
--- @include "lib/rules.lua"
--- @include "lib/seats.lua"
--- @include "lib/host.lua"
--- @include "lib/commit.lua"

return run(function()
  local c = context()
  local mode = ARGV[8]
  if mode ~= 'leave' and mode ~= 'disconnect' then
    fail('INVALID_ARGUMENT')
  end
  local st, raw = load(c)
  if is_dup(c) then
    return { 'dup', raw, '[]' }
  end
  local host = is_host(st, c.client)
  if not holds_any(st, c.client) and not (host and is_null(st.hostAwaySince)) then
    return { 'noop', raw, '[]' }
  end
  settle(st, c)
  release_claims(st, c, mode == 'leave' and st.status == 'waiting')
  if host then
    host_away(st, c)
  end
  return commit(st, c, mode, nil)
end)
