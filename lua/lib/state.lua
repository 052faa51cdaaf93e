--[[
  lib/state.lua: reading a game and asking about its players and the caller's role.
  Nothing here writes.

  Provides: load, is_dup, player, alive_count, next_alive, holds_any, anyone_seated, is_host
]]
--- @include "lib/context.lua"

local function load(c)
  local raw = rcall('HGET', c.kgame, 'state')
  if not raw then
    fail('GAME_NOT_FOUND')
  end
  return cjson.decode(raw), raw
end

local function is_dup(c)
  return c.aid ~= '' and rcall('HEXISTS', c.kacts, c.aid) == 1
end

local function player(st, pid)
  for _, p in ipairs(st.players) do
    if p.id == pid then
      return p
    end
  end
  return nil
end

local function alive_count(st)
  local n = 0
  for _, p in ipairs(st.players) do
    if not p.isEliminated then
      n = n + 1
    end
  end
  return n
end

-- The next player after `from_id` in turn order (array order, wrapping) who is still in
-- the game; `from_id` itself only when nobody else is. nil when nobody is alive.
local function next_alive(st, from_id)
  local n = #st.players
  local start = 0
  for i, p in ipairs(st.players) do
    if p.id == from_id then
      start = i
    end
  end
  for step = 1, n do
    local p = st.players[((start + step - 1) % n) + 1]
    if not p.isEliminated then
      return p.id
    end
  end
  return nil
end

local function anyone_seated(st)
  for _, p in ipairs(st.players) do
    if not is_null(p.claimedBy) then
      return true
    end
  end
  return false
end

local function holds_any(st, client)
  if client == '' then
    return false
  end
  for _, p in ipairs(st.players) do
    if p.claimedBy == client then
      return true
    end
  end
  return false
end

local function is_host(st, client)
  return client ~= '' and st.ownerId == client
end
