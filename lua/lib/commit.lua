--[[
  lib/commit.lua: the one way a game script writes a game. commit() stores the new state,
  logs the action, keeps the deadline index and TTLs in step and publishes, all inside the
  caller's atomic script.

  Provides: LOG_CAP, schedule, expire, commit

  Of the common KEYS and ARGV (lib/context.lua, read into c), a commit writes
    KEYS[1] the state JSON (field `state`), with `version` + 1 and `lastActivity` = now
    KEYS[2] the entry {v, t, a, c, at, d}; past LOG_CAP entries the oldest is dropped
    KEYS[3] action id (ARGV[2], when given) -> version, and the dropped entry's id removed
    KEYS[4] game id (ARGV[7]) -> next due ms, or no entry when the clock is not running
    KEYS[5] game id -> last activity ms while the game is listed (lib/lobby.lua)
  refreshes the TTL of KEYS[1..3] (expire() alone does only that: the live retention of
  ARGV[6], or its idle one once the game is finished or nobody holds a seat), and
  publishes "version\nevents JSON\nstate JSON" on ARGV[4] with ARGV[5].
  commit() returns the script's reply {"ok", state JSON, events JSON}.
]]
--- @include "lib/context.lua"
--- @include "lib/state.lua"
--- @include "lib/lobby.lua"

local LOG_CAP = 256

-- The game's entry in the deadline index: when something is next due (next_due), so it
-- fires once, from whichever instance leases it; no entry when nothing is.
local function schedule(st, c)
  local due = next_due(st)
  if due then
    rcall('ZADD', c.kdue, due, c.gid)
  else
    rcall('ZREM', c.kdue, c.gid)
  end
end

-- A game nobody plays any more (finished, or every seat released) is kept only long enough
-- for its players to come back; at real churn the full retention would hold most of Redis.
local function expire(c, st)
  local ttl = c.ttl
  if st.status == 'finished' or not anyone_seated(st) then
    ttl = c.idle_ttl
  end
  rcall('EXPIRE', c.kgame, ttl)
  rcall('EXPIRE', c.klog, ttl)
  rcall('EXPIRE', c.kacts, ttl)
end

local function commit(st, c, kind, detail)
  st.version = st.version + 1
  st.lastActivity = c.now
  local sj = encode_state(st)
  rcall('HSET', c.kgame, 'state', sj)
  rcall('LPUSH', c.klog, cjson.encode({ v = st.version, t = kind, a = c.aid, c = c.client, at = c.now, d = detail }))
  if c.aid ~= '' then
    rcall('HSET', c.kacts, c.aid, st.version)
  end
  if rcall('LLEN', c.klog) > LOG_CAP then
    local oldest = cjson.decode(rcall('RPOP', c.klog))
    if type(oldest.a) == 'string' and oldest.a ~= '' then
      rcall('HDEL', c.kacts, oldest.a)
    end
  end
  schedule(st, c)
  index_game(st, c)
  expire(c, st)
  local ev = '[]'
  if #c.events > 0 then
    ev = encode_events(c.events)
  end
  rcall(c.pub, c.channel, st.version .. '\n' .. ev .. '\n' .. sj)
  return { 'ok', sj, ev }
end
