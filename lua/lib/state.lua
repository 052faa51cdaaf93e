--[[
  lib/state.lua: reading a game and asking about its players and the caller's role,
  whose clocks run (the interrupt stack, the targets), and the one encoding of a state and
  of its events. Nothing here writes.

  Provides: SUMMARY_FIELDS, PLAYER_SUMMARY_FIELDS, summary, load, is_dup, host_on_player, modifiable_player, player, alive_count, next_alive, holds_any, anyone_seated, is_host, seat_of, seated_caller, clear_choice, interrupters, targeting, running_ids, has_timeout_choice, choice_deadline, own_turn, next_due, ID_ARRAYS, EMPTY_OBJECT, encode_campaign, encode_ids, encode_state, encode_events
]]
--- @include "lib/context.lua"
--- @include "lib/clocks.lua"

-- What a log entry's before/after summary compares (lib/commit.lua changes): these fields of
-- the game and of each player. A field a state lacks (one stored before it existed) is null.
local SUMMARY_FIELDS = { 'status', 'activePlayer', 'winner', 'turn', 'round' }
local PLAYER_SUMMARY_FIELDS = {
  'life', 'timeRemaining', 'isEliminated', 'eliminatedReason', 'penalties', 'drunkCounter', 'genericCounter',
  'poison', 'energy', 'experience', 'commanderDamage', 'timeoutPending',
}

-- Those fields of a state, each player's under its id, with the game's running time; a
-- table (commanderDamage) is kept as its JSON {j = ...}, so it compares as a value and
-- survives the script's changes to the table itself.
local function summary(st)
  local out = { runTime = st.runTime or 0, players = {} }
  for _, f in ipairs(SUMMARY_FIELDS) do
    out[f] = st[f]
  end
  for _, p in ipairs(st.players) do
    local row = {}
    for _, f in ipairs(PLAYER_SUMMARY_FIELDS) do
      local v = p[f]
      row[f] = type(v) == 'table' and { j = cjson.encode(v) } or v
    end
    out.players[p.id] = row
  end
  return out
end

-- The game, decoded, and its stored JSON. The JSON and the summary of the state before any
-- change are kept in `c` (c.raw, c.before): commit() logs what changed and keeps the JSON
-- as the undo snapshot of an undoable action.
local function load(c)
  local raw = rcall('HGET', c.kgame, 'state')
  if not raw then
    fail('GAME_NOT_FOUND')
  end
  local st = cjson.decode(raw)
  c.raw, c.before = raw, summary(st)
  return st, raw
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

-- The opening of an action on one player's life and counters (updatePlayer,
-- commanderDamage): the game, and the player, if the caller may change it: the host, the
-- player's holder, or while waiting anyone in the game for a seat nobody holds (HEAD's
-- canModifyPlayer). For an action id already applied it returns nil and the stored JSON
-- instead, which the caller answers as "dup".
local function modifiable_player(c, pid)
  local st, raw = load(c)
  if is_dup(c) then
    return nil, raw
  end
  local p = player(st, pid)
  local free_seat = p and st.status == 'waiting' and is_null(p.claimedBy) and c.client ~= ''
  if not is_host(st, c.client) and not (p and p.claimedBy == c.client) and not free_seat then
    fail('NOT_AUTHORIZED_MODIFY')
  end
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

-- The opening of an action a player takes for their own seat: the game, and the caller's seat
-- (`not_seated` is the script's own code for a caller holding none). For an action id already
-- applied it returns nil and the stored JSON instead, which the caller answers as "dup".
local function seated_caller(c, not_seated)
  local st, raw = load(c)
  if is_dup(c) then
    return nil, raw
  end
  local p = seat_of(st, c.client)
  if not p then
    fail(not_seated)
  end
  return st, raw, p
end

-- Ends a player's pending timeout choice (answered, run out, or the player eliminated,
-- revived or reset). A v1 game's players have no such fields and get none.
local function clear_choice(p)
  if p.timeoutPending ~= nil then
    p.timeoutPending = false
    p.timeoutGraceLeft = NULL
    p.timeoutChoiceDeadline = NULL
  end
end

-- The interrupt stack (HEAD's interruptingPlayers, B6.1): player ids, the last one holding
-- priority. A state stored before the stack existed has none, which means empty.
local function interrupters(st)
  if type(st.interruptingPlayers) ~= 'table' then
    st.interruptingPlayers = {}
  end
  return st.interruptingPlayers
end

-- The targeting fields (HEAD's parallel priority, B6.2): the state "none" | "selecting" |
-- "resolving", the players the active player has picked, those of them still to respond,
-- and the active player who started it. A state stored before targeting existed has none.
local function targeting(st)
  if st.targetingState ~= 'selecting' and st.targetingState ~= 'resolving' then
    st.targetingState = 'none'
  end
  if type(st.targetedPlayers) ~= 'table' then
    st.targetedPlayers = {}
  end
  if type(st.awaitingPriority) ~= 'table' then
    st.awaitingPriority = {}
  end
  if st.originalActivePlayer == nil then
    st.originalActivePlayer = NULL
  end
  return st
end

-- Whose clocks run while the game runs (HEAD's tick accounting, B4): the interrupter holding
-- priority if the stack has anyone; else, while targets are resolving, every target still
-- to respond, all at once; else the active player. Eliminated players are left out.
local function running_ids(st)
  local s = interrupters(st)
  local ids = {}
  if #s > 0 then
    ids = { s[#s] }
  elseif targeting(st).targetingState == 'resolving' and #st.awaitingPriority > 0 then
    ids = st.awaitingPriority
  elseif not is_null(st.activePlayer) then
    ids = { st.activePlayer }
  end
  local out = {}
  for _, pid in ipairs(ids) do
    local p = player(st, pid)
    if p and not p.isEliminated then
      out[#out + 1] = p
    end
  end
  return out
end

-- A game created by a HEAD client offers HEAD's timeout choice (B4, B6.3: lib/rules.lua
-- time_out) and carries its settings; a v1 game has none and times out as v1 did.
local function has_timeout_choice(st)
  return st.settings.timeoutGracePeriod ~= nil
end

-- When a player's pending timeout choice runs out and resolves as "die": its grace runs only
-- while the game runs (HEAD's C18), so only then is there a deadline, serverTime plus the
-- grace left (`timeoutGraceLeft`, exact at serverTime as timeRemaining is); nil otherwise.
local function choice_deadline(st, p)
  if st.status == 'running' and p.timeoutPending == true and not p.isEliminated then
    return st.serverTime + p.timeoutGraceLeft
  end
  return nil
end

-- Whether the clock that runs is the active player's own: nobody interrupted and no targets
-- respond. Only then does the turn's time run (lib/clocks.lua: turnTime, the Bronstein
-- delay, the turn cap).
local function own_turn(st)
  local ids = running_ids(st)
  return #ids == 1 and ids[1].id == st.activePlayer and #interrupters(st) == 0
    and not (st.targetingState == 'resolving' and #st.awaitingPriority > 0)
end

-- When something is next due in a running game: the earliest next warning or timeout of a
-- running clock (on the active player's own clock, after what is left of a Bronstein
-- delay), the turn cap's warning or pass (lib/clocks.lua cap_in), or the end of a pending
-- timeout choice's grace. nil when nothing is (not running, or every running clock at zero,
-- no cap and no choice pending).
local function next_due(st)
  if st.status ~= 'running' then
    return nil
  end
  local due = nil
  local own = own_turn(st)
  for _, p in ipairs(running_ids(st)) do
    if p.timeRemaining > 0 then
      local level = 0
      for _, t in ipairs(st.settings.warningThresholds) do
        if t < p.timeRemaining and t > level then
          level = t
        end
      end
      local at = st.serverTime + p.timeRemaining - level
      if own then
        at = at + delay_left(st)
      end
      if not due or at < due then
        due = at
      end
    end
  end
  local cap = own and cap_in(st)
  if cap and (not due or st.serverTime + cap < due) then
    due = st.serverTime + cap
  end
  for _, p in ipairs(st.players) do
    local at = choice_deadline(st, p)
    if at and (not due or at < due) then
      due = at
    end
  end
  return due
end

-- The arrays of player ids a state or an event's data holds. cjson writes an empty table as
-- {} on Redis (and [] on fakeredis), so they are left out of the encoding and appended as
-- arrays written here: each is [] when empty, on both engines.
local ID_ARRAYS = { 'interruptingPlayers', 'targetedPlayers', 'awaitingPriority', 'targets' }

-- `t` as a JSON object, each field of ID_ARRAYS it holds written as an array. `t` must hold
-- another field as well (every state and every event's data does): an object of arrays
-- alone would start from cjson's encoding of an empty table.
local function encode_ids(t)
  local held, tail = {}, {}
  for _, field in ipairs(ID_ARRAYS) do
    local list = t[field]
    if type(list) == 'table' then
      held[field] = list
      t[field] = nil
      local ids = {}
      for j, pid in ipairs(list) do
        ids[j] = string.format('%d', pid)
      end
      tail[#tail + 1] = ',"' .. field .. '":[' .. table.concat(ids, ',') .. ']'
    end
  end
  local sj = cjson.encode(t)
  for field, list in pairs(held) do
    t[field] = list
  end
  -- the members go in before the object's own closing brace
  return string.sub(sj, 1, -2) .. table.concat(tail) .. string.sub(sj, -1)
end

-- A JSON object without members: Redis' cjson writes an empty table as {} and fakeredis as
-- [], so this one is cjson's own output for one member, with the member taken out.
local EMPTY_OBJECT = (string.gsub(cjson.encode({ x = 0 }), '"x":0', ''))

-- A campaign (lib/campaign.lua) as JSON, the same on both engines: its damage tracker, empty
-- at the start of every round, always an object; its round history always an array. Every
-- other table in it is keyed by player id and holds each player, so never empty.
local function encode_campaign(cp)
  local damage, history = cp.damageTracker, cp.history
  cp.damageTracker, cp.history = nil, nil
  local cj = cjson.encode(cp)
  cp.damageTracker, cp.history = damage, history
  local rows = {}
  for i, row in ipairs(history) do
    rows[i] = cjson.encode(row)
  end
  local dj = EMPTY_OBJECT
  if next(damage) ~= nil then
    dj = cjson.encode(damage)
  end
  return string.sub(cj, 1, -2) .. ',"damageTracker":' .. dj .. ',"history":[' .. table.concat(rows, ',') .. ']'
    .. string.sub(cj, -1)
end

-- The state as JSON, the one encoding every commit uses. A timeout choice's deadline is
-- derived here from the grace left, so no script can publish a stale one (a paused game's is
-- null: its grace stands still).
local function encode_state(st)
  interrupters(st)
  targeting(st)
  if has_timeout_choice(st) then
    for _, p in ipairs(st.players) do
      p.timeoutChoiceDeadline = choice_deadline(st, p) or NULL
    end
  end
  local cp = st.campaign
  if type(cp) ~= 'table' then
    return encode_ids(st)
  end
  st.campaign = nil
  local sj = encode_ids(st)
  st.campaign = cp
  -- the member goes in before the object's own closing brace
  return string.sub(sj, 1, -2) .. ',"campaign":' .. encode_campaign(cp) .. string.sub(sj, -1)
end

-- Events as the JSON array commit() publishes: each {type, data, to?}, its data encoded as
-- encode_ids does, so an empty list of ids in an event is [] too.
local function encode_events(events)
  local out = {}
  for i, e in ipairs(events) do
    local data = e.data
    e.data = nil
    local head = cjson.encode(e)
    e.data = data
    out[i] = string.sub(head, 1, -2) .. ',"data":' .. encode_ids(data) .. string.sub(head, -1)
  end
  return '[' .. table.concat(out, ',') .. ']'
end
