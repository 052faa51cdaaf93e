--[[
  feedback_submit: store one feedback of one author, within the author's and the bucket's
  caps. Not a game script: no game, log or channel. Entries older than the retention are
  gone: never counted, never returned, and pruned here (the author's and the bucket's).

  KEYS: [1] the author's feedback hash tot:fb:{fbN}:<author> (id -> entry JSON),
        [2] the bucket's index tot:fb:{fbN}:idx (id -> timestamp ms); one slot.
  ARGV: [1] clock offset ms added to Redis TIME ("0" unless a test configuration),
        [2] retention ms, [3] most feedbacks per author, [4] most feedbacks per bucket,
        [5] feedback id, [6] text (trimmed and checked by the service).
  Returns: {"ok", timestamp ms} when stored; {"dup", timestamp ms} when the author already
    has a feedback of this id (a retry: nothing written).
  Errors: INVALID_ARGUMENT, FEEDBACK_LIMIT (the author holds the most feedbacks allowed),
    FEEDBACK_FULL (the bucket holds its share of the total cap)
  Publishes: nothing.
]]
local rcall = redis.call
local retention, per_author, per_bucket = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local id, text = ARGV[5], ARGV[6]
if #KEYS ~= 2 or not tonumber(ARGV[1]) or not retention or retention < 1 or not per_author or per_author < 1
  or not per_bucket or per_bucket < 1 or not id or #id < 1 or #id > 64 or not text or #text < 1
  or #text > 1020 then
  -- 1020 bytes: 255 characters of at most 4 UTF-8 bytes each
  return redis.error_reply('INVALID_ARGUMENT')
end
local t = rcall('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + tonumber(ARGV[1])
local cutoff = now - retention

-- read everything first: nothing is written before every check passed
local raw = rcall('HGETALL', KEYS[1])
local live, stale = 0, {}
for i = 1, #raw, 2 do
  local ok, entry = pcall(cjson.decode, raw[i + 1])
  local at = ok and type(entry) == 'table' and tonumber(entry.timestamp) or nil
  if at and at > cutoff then
    if raw[i] == id then
      return { 'dup', at }
    end
    live = live + 1
  else
    stale[#stale + 1] = raw[i]
  end
end
if live >= per_author then
  return redis.error_reply('FEEDBACK_LIMIT')
end
if rcall('ZCOUNT', KEYS[2], '(' .. cutoff, '+inf') >= per_bucket then
  return redis.error_reply('FEEDBACK_FULL')
end

if #stale > 0 then
  rcall('HDEL', KEYS[1], unpack(stale))
end
rcall('ZREMRANGEBYSCORE', KEYS[2], '-inf', cutoff)
rcall('HSET', KEYS[1], id, cjson.encode({ id = id, text = text, timestamp = now }))
rcall('ZADD', KEYS[2], now, id)
-- an author or bucket nobody writes to for the retention disappears with its last entry
rcall('PEXPIRE', KEYS[1], retention)
rcall('PEXPIRE', KEYS[2], retention)
return { 'ok', now }
