--[[
  lib/state.lua: reading a game and asking about its players and the caller's role,
  whose clock runs (the interrupt stack), and the one encoding of a state. Nothing here
  writes.

  Provides: load, is_dup, host_on_player, player, alive_count, next_alive, holds_any, anyone_seated, is_host, seat_of, interrupters, running_id, encode_state
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

-- The opening of an action the host takes on one player: the game, the host check (`not_host`
-- is the script's own code) and the player. For an action id already applied it returns nil
-- and the stored JSON instead, which the caller answers as "dup".
local function host_on_player(c, pid, not_host)
  local st, raw = load(c)
  if is_dup(c) then
    return nil, raw
  end
  if not is_host(st, c.client) then
    fail(not_host)
  end
  local p = player(st, pid)
  if not p then
    fail('PLAYER_NOT_FOUND')
  end
  return st, raw, p
end

-- The player whose seat the client holds (a client holds at most one: claim.lua).
local function seat_of(st, client)
  if client == '' then
    return nil
  end
  for _, p in ipairs(st.players) do
    if p.claimedBy == client then
      return p
    end
  end
  return nil
end

-- The interrupt stack (HEAD's interruptingPlayers, B6.1): player ids, the last one holding
-- priority. A state stored before the stack existed has none, which means empty.
local function interrupters(st)
  if type(st.interruptingPlayers) ~= 'table' then
    st.interruptingPlayers = {}
  end
  return st.interruptingPlayers
end

-- Whose clock runs while the game runs: the interrupter holding priority, else the active
-- player; nil when neither.
local function running_id(st)
  local s = interrupters(st)
  if #s > 0 then
    return s[#s]
  end
  if is_null(st.activePlayer) then
    return nil
  end
  return st.activePlayer
end

-- The state as JSON. cjson writes an empty table as {} on Redis (and [] on fakeredis), so
-- the stack, the one array that may be empty, is left out of the encoding and appended as
-- an array written here: `interruptingPlayers` is [] on both engines.
local function encode_state(st)
  local s = interrupters(st)
  st.interruptingPlayers = nil
  local sj = cjson.encode(st)
  st.interruptingPlayers = s
  local ids = {}
  for i, pid in ipairs(s) do
    ids[i] = string.format('%d', pid)
  end
  -- the member goes in before the object's own closing brace
  return string.sub(sj, 1, -2) .. ',"interruptingPlayers":[' .. table.concat(ids, ',') .. ']' .. string.sub(sj, -1)
end
