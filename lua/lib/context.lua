--[[
  lib/context.lua: what every game script starts from; the other lib files build on it.

  Provides: rcall, NULL, fail, is_null, context, decode_arg, run

  Common KEYS (every game script, in this order):
    KEYS[1] game       hash  tot:{ID}           state JSON, token hashes, expiries
    KEYS[2] log        list  tot:{ID}:log       capped action log, newest first
    KEYS[3] actions    hash  tot:{ID}:acts      action id -> version (exactly-once)
    KEYS[4] deadlines  zset  tot:deadlines:{t}  game id -> next due ms (same slot as the game)
    KEYS[5] lobby      zset  tot:lobby:{t}      listed game id -> last activity ms (same slot)
    KEYS[6] undo       list  tot:{ID}:undo      undo stack, newest first (lib/commit.lua)

  Common ARGV:
    ARGV[1] clock offset in ms added to Redis TIME ("0" unless a test configuration)
    ARGV[2] action id ('' = none); an id seen in the log makes the script answer "dup"
    ARGV[3] client id of the caller ('' for the deadline loop)
    ARGV[4] channel to publish on
    ARGV[5] "PUBLISH" or "SPUBLISH"
    ARGV[6] retention in seconds, "LIVE:IDLE" (or one number for both): the TTL every commit
            refreshes, IDLE for a finished game or one where no seat is held
    ARGV[7] game id
  A script's own arguments follow from ARGV[8]. context() reads the common ones, and the
  time now, into the table `c` that every other helper takes.

  Failures are raised with fail(CODE) before the first write and turned into an error
  reply by run(); every other Lua error is re-raised untouched.
]]
local rcall = redis.call
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
  local live, idle = string.match(ARGV[6] or '', '^(%d+):(%d+)$')
  live, idle = tonumber(live or ARGV[6]), tonumber(idle or ARGV[6])
  if not live or not idle or live < 1 or idle < 1 or not KEYS[6] then
    fail('INVALID_ARGUMENT')
  end
  return {
    kgame = KEYS[1], klog = KEYS[2], kacts = KEYS[3], kdue = KEYS[4], klobby = KEYS[5], kundo = KEYS[6],
    now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + offset,
    aid = ARGV[2], client = ARGV[3], channel = ARGV[4], pub = pub,
    ttl = live, idle_ttl = math.min(idle, live), gid = ARGV[7],
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
