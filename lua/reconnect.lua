--[[
  reconnect: a new socket proves it holds a seat token and/or the host token and takes
  the seat (from whichever socket held it) and/or host rights. Tokens are not rotated,
  so a lost `reconnected` reply never locks the player out; their expiry slides forward.

  A seat token the host moved to another seat (move_seat.lua) takes that seat: the reply's
  state says which (the seat the caller now holds). Once the host role was handed over or
  taken (lib/host.lua `hostSeat`), the token of the host's seat brings host rights back, and
  the old host token is refused (INVALID_HOST_TOKEN). Coming back as host ends the host's
  absence (`hostAwaySince`).

  KEYS: the six common game keys (lib/context.lua).
  ARGV: the seven common arguments, then
    ARGV[8]  player id ('' = no seat)
    ARGV[9]  SHA-256 hex of the seat token ('' = none)
    ARGV[10] SHA-256 hex of the host token ('' = none)
    ARGV[11] token lifetime in ms
  Returns: {"ok"|"dup"|"noop", state JSON, events JSON}; "noop" when the caller already
    held everything it proved (expiries still slide).
  Errors: GAME_NOT_FOUND, PLAYER_NOT_FOUND, NO_TOKEN, INVALID_TOKEN, TOKEN_EXPIRED,
    INVALID_HOST_TOKEN, INVALID_ARGUMENT
  Publishes: the new state (not on "noop").
]]
--- @include "lib/context.lua"
--- @include "lib/state.lua"
--- @include "lib/rules.lua"
--- @include "lib/seats.lua"
--- @include "lib/commit.lua"

return run(function()
  local c = context()
  local pid, tok_hash, host_hash, token_ms = tonumber(ARGV[8]), ARGV[9], ARGV[10], tonumber(ARGV[11])
  if c.client == '' or not token_ms or (ARGV[8] == '' and host_hash == '') then
    fail('INVALID_ARGUMENT')
  end
  local st, raw = load(c)
  if is_dup(c) then
    return { 'dup', raw, '[]' }
  end
  local p = nil
  if ARGV[8] ~= '' then
    p = player(st, pid)
    if not p then
      fail('PLAYER_NOT_FOUND')
    end
    local stored = rcall('HGET', c.kgame, 'tok:' .. pid)
    if not same_digest(stored, tok_hash) then
      local moved = seat_with_token(st, c, tok_hash)
      if not moved and not stored then
        fail('NO_TOKEN')
      end
      if not moved then
        fail('INVALID_TOKEN')
      end
      p, pid = moved, moved.id
    end
    if tonumber(rcall('HGET', c.kgame, 'exp:' .. pid) or '0') < c.now then
      fail('TOKEN_EXPIRED')
    end
  end
  if host_hash ~= '' then
    if not same_digest(rcall('HGET', c.kgame, 'host'), host_hash) then
      fail('INVALID_HOST_TOKEN')
    end
    if tonumber(rcall('HGET', c.kgame, 'hostExp') or '0') < c.now then
      fail('TOKEN_EXPIRED')
    end
  end
  -- the host role bound to this seat (lib/host.lua) comes back with the seat's token
  local as_host = host_hash ~= '' or (p ~= nil and st.hostSeat == pid)
  local changed = false
  if p then
    rcall('HSET', c.kgame, 'exp:' .. pid, c.now + token_ms)
    if p.claimedBy ~= c.client then
      p.claimedBy = c.client
      changed = true
    end
  end
  if host_hash ~= '' then
    rcall('HSET', c.kgame, 'hostExp', c.now + token_ms)
  end
  if as_host then
    if st.ownerId ~= c.client then
      st.ownerId = c.client
      changed = true
    end
    if not is_null(st.hostAwaySince) then
      st.hostAwaySince = NULL
      changed = true
    end
  end
  if not changed then
    return { 'noop', raw, '[]' }
  end
  settle(st, c)
  return commit(st, c, 'reconnect', { playerId = p and pid or NULL, host = as_host })
end)
