--[[
  lib/host.lua: the host role after its creator: bound to a seat once handed over
  (transferHost) or taken (claimHost), and the time since the host went away.

  Provides: DEFAULT_HOST_TIMEOUT, MIN_HOST_TIMEOUT, MAX_HOST_TIMEOUT, check_host_timeout, host_timeout, host_away, make_host

  State fields (both absent in a game that never had them, which means null):
    hostSeat       the seat whose token holder is the host (reconnect.lua restores ownerId
                   from that seat's token), or null: host rights come with the host token
    hostAwaySince  ms since which the host's client has served no socket in the game (it left,
                   closed, or its instance died), or null while the host is here
  Settings: hostTimeout (ms the host must be away before a seated player may take the role).
]]
--- @include "lib/context.lua"

-- 2 minutes: long enough for a phone to reload or change networks, short enough to keep a
-- table going; bounds from 10 s (a reload) to an hour
local DEFAULT_HOST_TIMEOUT = 120000
local MIN_HOST_TIMEOUT, MAX_HOST_TIMEOUT = 10000, 3600000

-- A hostTimeout from the caller: absent (nil) or an integer within the bounds.
local function check_host_timeout(v)
  return v == nil or (type(v) == 'number' and v == math.floor(v) and v >= MIN_HOST_TIMEOUT and v <= MAX_HOST_TIMEOUT)
end

local function host_timeout(st)
  return st.settings.hostTimeout or DEFAULT_HOST_TIMEOUT
end

-- The host's client stopped serving the game: it is away from now, unless it already was.
-- True when that changed the state.
local function host_away(st, c)
  if is_null(st.hostAwaySince) then
    st.hostAwaySince = c.now
    return true
  end
  return false
end

-- `client`, who holds seat `pid`, is the host from now on, and its rights go with the seat's
-- token: the host token (if any) stops working, so no earlier host can take the role back.
local function make_host(st, c, client, pid)
  st.ownerId = client
  st.hostSeat = pid
  st.hostAwaySince = NULL
  rcall('HDEL', c.kgame, 'host', 'hostExp')
end
