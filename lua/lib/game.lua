--[[
  Shared body of every game script; the loader pastes it where a script says
  `--- @include "lib/game.lua"`.

  Common KEYS (every game script, in this order):
    KEYS[1] game       hash  tot:{ID}           state JSON, token hashes, expiries
    KEYS[2] log        list  tot:{ID}:log       capped action log, newest first
    KEYS[3] actions    hash  tot:{ID}:acts      action id -> version (exactly-once)
    KEYS[4] deadlines  zset  tot:deadlines:{t}  game id -> next due ms (same slot as the game)

  Common ARGV:
    ARGV[1] clock offset in ms added to Redis TIME ("0" unless a test configuration)
    ARGV[2] action id ('' = none); an id seen in the log makes the script answer "dup"
    ARGV[3] client id of the caller ('' for the deadline loop)
    ARGV[4] channel to publish on
    ARGV[5] "PUBLISH" or "SPUBLISH"
    ARGV[6] retention in seconds (TTL refreshed on every commit)
    ARGV[7] game id

  Failures are raised with fail(CODE) before the first write and turned into an error
  reply by run(); every other Lua error is re-raised untouched.
]]
local rcall = redis.call
local LOG_CAP = 256
local MAX_TIME = 86400000
local NULL = cjson.null

local function fail(code)
  error(code, 0)
end

local function is_null(v)
  return v == nil or v == NULL
end

local function context()
  local t = rcall('TIME')
  local offset = tonumber(ARGV[1]) or 0
  local pub = ARGV[5]
  if pub ~= 'PUBLISH' and pub ~= 'SPUBLISH' then
    fail('INVALID_ARGUMENT')
  end
  return {
    kgame = KEYS[1], klog = KEYS[2], kacts = KEYS[3], kdue = KEYS[4],
    now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + offset,
    aid = ARGV[2], client = ARGV[3], channel = ARGV[4], pub = pub,
    ttl = tonumber(ARGV[6]), gid = ARGV[7],
    events = {},
  }
end

-- A JSON argument from the caller; malformed input is INVALID_ARGUMENT, not a Lua error.
local function decode_arg(raw)
  local ok, value = pcall(cjson.decode, raw)
  if not ok or type(value) ~= 'table' then
    fail('INVALID_ARGUMENT')
  end
  return value
end

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

-- Compares two hex digests without stopping at the first difference.
local function same_digest(a, b)
  if type(a) ~= 'string' or type(b) ~= 'string' or #a ~= #b or #a == 0 then
    return false
  end
  local diff = 0
  for i = 1, #a do
    if string.byte(a, i) ~= string.byte(b, i) then
      diff = diff + 1
    end
  end
  return diff == 0
end

local function is_int(v, lo, hi)
  return type(v) == 'number' and v == math.floor(v) and v >= lo and v <= hi
end

local function utf8_len(s)
  local n = 0
  for i = 1, #s do
    local b = string.byte(s, i)
    if b < 128 or b >= 192 then
      n = n + 1
    end
  end
  return n
end

local function check_thresholds(list)
  if type(list) ~= 'table' or #list < 1 or #list > 10 then
    return false
  end
  for _, t in ipairs(list) do
    if not is_int(t, 1, MAX_TIME) then
      return false
    end
  end
  return true
end

local PENALTIES = { warning = true, time_deduction = true, game_loss = true }

local function eliminate(st, p)
  p.isEliminated = true
  local alive = alive_count(st)
  if alive <= 1 then
    st.status = 'finished'
    st.winner = NULL
    for _, q in ipairs(st.players) do
      if not q.isEliminated then
        st.winner = q.id
      end
    end
    st.activePlayer = NULL
  elseif st.activePlayer == p.id then
    st.activePlayer = next_alive(st, p.id)
  end
end

local function apply_penalty(st, p)
  local kind = st.settings.penaltyType
  if kind == 'time_deduction' then
    p.timeRemaining = math.max(0, p.timeRemaining - st.settings.penaltyTimeDeduction)
  elseif kind == 'game_loss' and not p.isEliminated then
    eliminate(st, p)
  end
end

-- Charges the running clock up to now and fires every threshold crossed on the way
-- (prev > T >= now), then the timeout when the clock reaches zero from above. A clock
-- that was already at zero does not time out again, so resuming cannot loop.
local function settle(st, c)
  local elapsed = c.now - st.serverTime
  if elapsed <= 0 then
    -- Redis time stepped back (NTP, failover): charge nothing and keep the later timestamp,
    -- or the same stretch would be charged twice
    return
  end
  st.serverTime = c.now
  if st.status ~= 'running' or is_null(st.activePlayer) then
    return
  end
  local p = player(st, st.activePlayer)
  if not p or p.isEliminated then
    return
  end
  local prev = p.timeRemaining
  local rem = math.max(0, prev - elapsed)
  p.timeRemaining = rem
  local crossed = {}
  for _, t in ipairs(st.settings.warningThresholds) do
    if prev > t and t >= rem then
      crossed[#crossed + 1] = t
    end
  end
  table.sort(crossed, function(a, b) return a > b end)
  for _, t in ipairs(crossed) do
    c.events[#c.events + 1] = { type = 'warning', data = { playerId = p.id, threshold = t } }
  end
  if prev > 0 and rem == 0 then
    st.status = 'paused'
    p.penalties = p.penalties + 1
    c.events[#c.events + 1] = { type = 'timeout', data = { playerId = p.id } }
    apply_penalty(st, p)
  end
end

-- Picks who runs when a clock starts: the active player if still in the game, else the
-- next one in turn order.
local function ensure_active(st)
  local a = st.activePlayer
  if is_null(a) then
    st.activePlayer = next_alive(st, 0)
    return
  end
  local p = player(st, a)
  if not p or p.isEliminated then
    st.activePlayer = next_alive(st, a)
  end
end

local function schedule(st, c)
  if st.status == 'running' and not is_null(st.activePlayer) then
    local p = player(st, st.activePlayer)
    if p and not p.isEliminated and p.timeRemaining > 0 then
      local level = 0
      for _, t in ipairs(st.settings.warningThresholds) do
        if t < p.timeRemaining and t > level then
          level = t
        end
      end
      rcall('ZADD', c.kdue, st.serverTime + p.timeRemaining - level, c.gid)
      return
    end
  end
  rcall('ZREM', c.kdue, c.gid)
end

local function expire(c)
  rcall('EXPIRE', c.kgame, c.ttl)
  rcall('EXPIRE', c.klog, c.ttl)
  rcall('EXPIRE', c.kacts, c.ttl)
end

-- Writes the new state, logs the action, keeps the deadline index and TTLs in step and
-- publishes, all inside the caller's atomic script.
local function commit(st, c, kind, detail)
  st.version = st.version + 1
  st.lastActivity = c.now
  local sj = cjson.encode(st)
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
  expire(c)
  local ev = '[]'
  if #c.events > 0 then
    ev = cjson.encode(c.events)
  end
  rcall(c.pub, c.channel, st.version .. '\n' .. ev .. '\n' .. sj)
  return { 'ok', sj, ev }
end

local function release_claims(st, c, clear_tokens)
  local changed = false
  for _, p in ipairs(st.players) do
    if p.claimedBy == c.client then
      p.claimedBy = NULL
      changed = true
      if clear_tokens then
        rcall('HDEL', c.kgame, 'tok:' .. p.id, 'exp:' .. p.id)
      end
    end
  end
  return changed
end

local function run(main)
  local ok, res = pcall(main)
  if ok then
    return res
  end
  if type(res) == 'string' and string.match(res, '^[A-Z_]+$') then
    return redis.error_reply(res)
  end
  error(res)
end
