--[[
  feedback_update: replace the text of one of the author's own feedbacks, and its timestamp
  (as the original did). Another author's feedback is not in this author's hash, so it is
  "not found" exactly like an id that never existed. Not a game script.

  KEYS: [1] the author's feedback hash tot:fb:{fbN}:<author> (id -> entry JSON),
        [2] the bucket's index tot:fb:{fbN}:idx (id -> timestamp ms); one slot.
  ARGV: [1] clock offset ms added to Redis TIME ("0" unless a test configuration),
        [2] retention ms, [3] feedback id, [4] text (trimmed and checked by the service).
  Returns: the new timestamp ms.
  Errors: INVALID_ARGUMENT, FEEDBACK_NOT_FOUND (no live feedback of this id by this author)
  Publishes: nothing.
]]
local rcall = redis.call
local retention, id, text = tonumber(ARGV[2]), ARGV[3], ARGV[4]
if #KEYS ~= 2 or not tonumber(ARGV[1]) or not retention or retention < 1 or not id or #id < 1 or #id > 64
  or not text or #text < 1 or #text > 1020 then
  return redis.error_reply('INVALID_ARGUMENT')
end
local t = rcall('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + tonumber(ARGV[1])

local raw = rcall('HGET', KEYS[1], id)
local ok, entry = pcall(cjson.decode, raw or '')
local at = ok and type(entry) == 'table' and tonumber(entry.timestamp) or nil
if not at or at <= now - retention then
  return redis.error_reply('FEEDBACK_NOT_FOUND')
end

rcall('HSET', KEYS[1], id, cjson.encode({ id = id, text = text, timestamp = now }))
rcall('ZADD', KEYS[2], now, id)
rcall('PEXPIRE', KEYS[1], retention)
rcall('PEXPIRE', KEYS[2], retention)
return now
