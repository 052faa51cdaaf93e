--[[
  due_partitions: which deadline partitions hold an entry that is due, in one call, for
  the deadline loop's poll on one Redis (plain or Sentinel). The poll used to pipeline one
  ZRANGEBYSCORE per partition: 64 commands every DEADLINE_POLL_MS from every instance,
  whatever the load. A Cluster spreads the partitions over its shards, so there the loop
  still pipelines the peeks; this script is never called with keys of several slots.

  KEYS:
    KEYS[1..n] the deadline partitions to look at (zsets tot:deadlines:{tag}: game id -> due
               epoch ms), in the caller's order
  ARGV:
    ARGV[1] clock offset in ms added to Redis TIME ("0" unless a test configuration)
  Returns: array of the positions (1-based, into KEYS) of the partitions with an entry due
  Errors: INVALID_ARGUMENT (no partition, or more than the 64 there are)
  Publishes: nothing.
]]
local rcall = redis.call
if #KEYS < 1 or #KEYS > 64 then
  return redis.error_reply('INVALID_ARGUMENT')
end
local t = rcall('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + (tonumber(ARGV[1]) or 0)
local due = {}
for i = 1, #KEYS do
  if #rcall('ZRANGEBYSCORE', KEYS[i], '-inf', now, 'LIMIT', 0, 1) > 0 then
    due[#due + 1] = i
  end
end
return due
