--[[
  lib/commit.lua: the one way a game script writes a game. commit() stores the new state,
  logs the action, keeps the undo stack, the deadline index and TTLs in step and publishes,
  all inside the caller's atomic script.

  Provides: LOG_CAP, UNDO_CAP, UNDOABLE, UNDO_NEUTRAL, summary_value, same, changes, keep_undo, schedule, expire, commit

  Of the common KEYS and ARGV (lib/context.lua, read into c), a commit writes
    KEYS[1] the state JSON (field `state`), with `version` + 1, `lastActivity` = now and
            `undoDepth` = the entries KEYS[6] holds after this commit
    KEYS[2] the entry {v, t, a, c, at, d, p, h, s, e}; past LOG_CAP entries the oldest is dropped
    KEYS[3] action id (ARGV[2], when given) -> version, and the dropped entry's id removed
    KEYS[4] game id (ARGV[7]) -> next due ms, or no entry when the clock is not running
    KEYS[5] game id -> last activity ms while the game is listed (lib/lobby.lua)
    KEYS[6] the undo stack: an undoable kind pushes {v, t, p, h, at} JSON, "\n" and the state
            JSON load() read (capped at UNDO_CAP); a kind neither undoable nor neutral clears it
  refreshes the TTL of KEYS[1..3] and KEYS[6] (expire() alone does only that: the live
  retention of ARGV[6], or its idle one once the game is finished or nobody holds a seat), and
  publishes "version\nevents JSON\nstate JSON" on ARGV[4] with ARGV[5].
  commit() returns the script's reply {"ok", state JSON, events JSON}.

  The log entry: v version, t kind, a action id, c client id, at ms, d detail, p the actor's
  seat (player id) or null, h whether the actor was the host, s what changed {before, after}
  (changes), absent when nothing summarised did, e the events JSON as published, absent
  when there were none.
]]
--- @include "lib/context.lua"
--- @include "lib/state.lua"
--- @include "lib/lobby.lua"

local LOG_CAP = 256
local UNDO_CAP = 16

-- The kinds an undo can revert (undo.lua): each pushes its snapshot on the undo stack.
local UNDOABLE = {
  ['switch'] = true, ['updatePlayer'] = true, ['commanderDamage'] = true, ['addPenalty'] = true,
  ['eliminate'] = true, ['concede'] = true, ['adminAddTime'] = true, ['adminRevive'] = true,
  ['adminKick'] = true,
}
-- The kinds that leave the stack as it is: they change only what an undo keeps from the
-- current state (seats, names, colours, the host, game name, listing, settings, running or
-- paused) or charge time, which an undo charges again from the game's running time. Every
-- other kind is a barrier and clears the stack (reset, start, the interrupt stack, targeting,
-- timeout choices, play-order rolls, and any kind not named here), as does a campaign round
-- that ended: reverting over it would be wrong.
local UNDO_NEUTRAL = {
  ['claim'] = true, ['unclaim'] = true, ['leave'] = true, ['disconnect'] = true, ['reconnect'] = true,
  ['release'] = true, ['pause'] = true, ['resume'] = true, ['timeout'] = true, ['deadline'] = true,
  ['renameGame'] = true, ['setListed'] = true, ['updateSettings'] = true, ['rollDice'] = true,
  ['undo'] = true, ['moveSeat'] = true, ['freeSeat'] = true, ['transferHost'] = true, ['claimHost'] = true,
}

local function summary_value(v)
  if type(v) == 'table' then
    return cjson.decode(v.j)
  end
  return is_null(v) and NULL or v
end

local function same(a, b)
  if type(a) == 'table' and type(b) == 'table' then
    return a.j == b.j
  end
  return a == b or (is_null(a) and is_null(b))
end

-- What the action changed, {before, after} over the summary fields (lib/state.lua summary),
-- players as [{id, field...}] listing only their changed fields; nil when nothing did. A
-- clock that only ran (by the game's running time, down to zero) is not a change.
local function changes(b, st)
  local a = summary(st)
  local ran = a.runTime - b.runTime
  local sb, sa, any = {}, {}, false
  for _, f in ipairs(SUMMARY_FIELDS) do
    if not same(b[f], a[f]) then
      sb[f], sa[f], any = summary_value(b[f]), summary_value(a[f]), true
    end
  end
  local pb, pa = {}, {}
  for _, p in ipairs(st.players) do
    local rb, ra = b.players[p.id] or {}, a.players[p.id]
    local ob, oa, moved = { id = p.id }, { id = p.id }, false
    for _, f in ipairs(PLAYER_SUMMARY_FIELDS) do
      local vb, va = rb[f], ra[f]
      local ticked = f == 'timeRemaining' and type(vb) == 'number' and va == math.max(0, vb - ran)
      if not same(vb, va) and not ticked then
        ob[f], oa[f], moved = summary_value(vb), summary_value(va), true
      end
    end
    if moved then
      pb[#pb + 1], pa[#pa + 1] = ob, oa
    end
  end
  if #pb > 0 then
    sb.players, sa.players, any = pb, pa, true
  end
  if any then
    return { before = sb, after = sa }
  end
  return nil
end

-- An undoable action pushes its header and the state from before it (the JSON load() read,
-- not re-encoded); a barrier clears the stack; a neutral kind leaves it. Returns how many
-- entries the stack holds now: the state's undoDepth, so that a client offers an undo only
-- when there is one.
local function keep_undo(st, c, kind, me)
  if UNDOABLE[kind] and c.raw and not c.round_ended then
    local head = cjson.encode({ v = st.version, t = kind, p = me and me.id or NULL, h = is_host(st, c.client), at = c.now })
    local depth = rcall('LPUSH', c.kundo, head .. '\n' .. c.raw)
    rcall('LTRIM', c.kundo, 0, UNDO_CAP - 1)
    return math.min(depth, UNDO_CAP)
  elseif c.round_ended or not UNDO_NEUTRAL[kind] then
    rcall('DEL', c.kundo)
    return 0
  end
  -- a neutral kind, undo among them (it trimmed what it reverted before committing)
  return rcall('LLEN', c.kundo)
end

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
  rcall('EXPIRE', c.kundo, ttl)
end

local function commit(st, c, kind, detail)
  st.version = st.version + 1
  st.lastActivity = c.now
  local me = seat_of(st, c.client)
  -- before the state is encoded: the depth is part of it
  st.undoDepth = keep_undo(st, c, kind, me)
  local sj = encode_state(st)
  rcall('HSET', c.kgame, 'state', sj)
  local ev = '[]'
  if #c.events > 0 then
    ev = encode_events(c.events)
  end
  -- the events go in the entry too (as the published JSON text): an instance whose pub/sub
  -- lost this message replays them from the log (lua/missed_events.lua), so no socket misses
  -- a warning, a timeout or a gameComplete in a gap
  rcall('LPUSH', c.klog, cjson.encode({
    v = st.version, t = kind, a = c.aid, c = c.client, at = c.now, d = detail,
    p = me and me.id or NULL, h = is_host(st, c.client), s = c.before and changes(c.before, st) or nil,
    e = ev ~= '[]' and ev or nil,
  }))
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
  rcall(c.pub, c.channel, st.version .. '\n' .. ev .. '\n' .. sj)
  return { 'ok', sj, ev }
end
