--[[
  feedback_list: the author's own live feedbacks, newest first. Reads only. Not a game script.

  KEYS: [1] the author's feedback hash tot:fb:{fbN}:<author> (id -> entry JSON).
  ARGV: [1] clock offset ms added to Redis TIME ("0" unless a test configuration),
        [2] retention ms.
  Returns: the entries' JSON ({id, text, timestamp}), newest first (ties by id); entries
    past the retention are left out.
  Errors: INVALID_ARGUMENT
  Publishes: nothing.
]]
local rcall = redis.call
local retention = tonumber(ARGV[2])
if #KEYS ~= 1 or not tonumber(ARGV[1]) or not retention or retention < 1 then
  return redis.error_reply('INVALID_ARGUMENT')
end
local t = rcall('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + tonumber(ARGV[1])

local raw = rcall('HGETALL', KEYS[1])
local found = {}
for i = 1, #raw, 2 do
  local ok, entry = pcall(cjson.decode, raw[i + 1])
  local at = ok and type(entry) == 'table' and tonumber(entry.timestamp) or nil
  if at and at > now - retention then
    found[#found + 1] = { at = at, id = raw[i], json = raw[i + 1] }
  end
end
table.sort(found, function(a, b)
  if a.at ~= b.at then
    return a.at > b.at
  end
  return a.id > b.id
end)
local out = {}
for i, f in ipairs(found) do
  out[i] = f.json
end
return out
