--[[
  lib/lobby.lua: the lobby index (GET /api/games), kept in step with the game by the same
  script that changes it. One sorted set per partition, in the slot of its games (KEYS[5]):
  game id -> last activity ms, for the games whose host lets them be listed.

  Provides: MAX_GAME_NAME, is_game_name, index_game, unindex_game
]]
--- @include "lib/context.lua"
--- @include "lib/checks.lua"

local MAX_GAME_NAME = 50

-- A lobby name as the service sends it: already trimmed, 1-50 characters, no control
-- character (the service refuses the rest of Unicode's controls before it gets here).
local function is_game_name(v)
  return type(v) == 'string' and #v <= 4 * MAX_GAME_NAME and utf8_len(v) >= 1
    and utf8_len(v) <= MAX_GAME_NAME and not string.find(v, '%c')
end

-- Lists or unlists the game as its state says (`listed`, absent in games made before it
-- existed: listed). Entries older than the longest retention are of games Redis has expired
-- since; they go here, so an index nobody pages through to its end still stays bounded.
local function index_game(st, c)
  if st.listed == false then
    rcall('ZREM', c.klobby, c.gid)
  else
    rcall('ZADD', c.klobby, st.lastActivity, c.gid)
  end
  rcall('ZREMRANGEBYSCORE', c.klobby, '-inf', '(' .. (c.now - c.ttl * 1000))
end

local function unindex_game(c)
  rcall('ZREM', c.klobby, c.gid)
end
