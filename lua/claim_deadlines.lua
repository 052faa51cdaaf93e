--[[
  claim_deadlines: lease the due entries of one deadline partition to the calling
  instance. A leased entry is pushed `lease` ms into the future, so other instances skip
  it; the caller then runs fire_deadline for each game, which re-checks the game and
  writes the entry's true next due time. If the caller dies, the lease runs out and
  another instance claims the entry again; fire_deadline is idempotent, so nothing fires
  twice.

  KEYS:
    KEYS[1] deadline partition (zset tot:deadlines:{tag}: game id -> due epoch ms)
  ARGV:
    ARGV[1] clock offset in ms added to Redis TIME ("0" unless a test configuration)
    ARGV[2] most entries to claim (bounds the script's run time)
    ARGV[3] lease in ms
  Returns: flat array {game id, due ms, game id, due ms, ...}
  Errors: INVALID_ARGUMENT
  Publishes: nothing.
]]
local rcall = redis.call
local t = rcall('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + (tonumber(ARGV[1]) or 0)
local limit, lease = tonumber(ARGV[2]), tonumber(ARGV[3])
if not limit or not lease or limit < 1 or limit > 1000 or lease < 1 then
  return redis.error_reply('INVALID_ARGUMENT')
end
local due = rcall('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'WITHSCORES', 'LIMIT', 0, limit)
for i = 1, #due, 2 do
  rcall('ZADD', KEYS[1], now + lease, due[i])
end
return due
