--[[
  missed_events: the game's state and the events of the versions after `since`, for an
  instance whose pub/sub lost messages (service/hub.py repair). Pub/sub is at-most-once; the
  state alone would repair the snapshot but not the warnings, timeouts or gameComplete of the
  lost versions, which only the log keeps (lib/commit.lua stores each commit's events in its
  entry). Reads only: nothing is written or published.

  The log holds one entry per version, newest first (lua/history.lua), so the entries after
  `since` are one LRANGE from the head. Entries older than the log's cap are gone, and so are
  their events: an instance that was cut off for longer than LOG_CAP versions shows only the
  state.

  KEYS: the six common game keys (lib/context.lua).
  ARGV: the seven common arguments, then
    ARGV[8] since: the newest version the caller has seen (0 = every entry the log holds)
  Returns: {"ok", state JSON, entries}: entries is a list of "version\nevents JSON" strings,
    oldest first, of the versions after `since` that had events; {"gone", "", {}} when the game
    no longer exists.
  Errors: INVALID_ARGUMENT
  Publishes: nothing.
]]
--- @include "lib/context.lua"
--- @include "lib/checks.lua"

return run(function()
  local c = context()
  local since = tonumber(ARGV[8])
  if not is_int(since, 0, 2 ^ 53) then
    fail('INVALID_ARGUMENT')
  end
  local raw = rcall('HGET', c.kgame, 'state')
  if not raw then
    return { 'gone', '', {} }
  end
  local out = {}
  local newest = rcall('LINDEX', c.klog, 0)
  if newest then
    local count = cjson.decode(newest).v - since
    if count > 0 then
      local entries = rcall('LRANGE', c.klog, 0, count - 1)
      for i = #entries, 1, -1 do
        local e = cjson.decode(entries[i])
        if e.v > since and type(e.e) == 'string' then
          out[#out + 1] = e.v .. '\n' .. e.e
        end
      end
    end
  end
  return { 'ok', raw, out }
end)
