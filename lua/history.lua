--[[
  history: read a page of the game's log (lib/commit.lua), newest first, and which of its
  versions are on the undo stack. Reads only: nothing is written or published.

  The log holds one entry per version, newest first, so the entry of version v sits at index
  (newest version - v): a page is one LRANGE however long the log.

  KEYS: the six common game keys (lib/context.lua).
  ARGV: the seven common arguments, then
    ARGV[8] limit, 1..50
    ARGV[9] before: only entries of lower versions ('' = from the newest)
  Returns: {"ok", entries JSON (the raw log entries, an array), undoable versions JSON (an
    array), next version to page from ('' when there is nothing older)}
  Errors: GAME_NOT_FOUND, INVALID_ARGUMENT
  Publishes: nothing.
]]
--- @include "lib/context.lua"
--- @include "lib/checks.lua"

local MAX_PAGE = 50

return run(function()
  local c = context()
  local limit = tonumber(ARGV[8])
  local before = ARGV[9] == '' and nil or tonumber(ARGV[9])
  if not is_int(limit, 1, MAX_PAGE) or (ARGV[9] ~= '' and not is_int(before, 1, 2 ^ 53)) then
    fail('INVALID_ARGUMENT')
  end
  if rcall('EXISTS', c.kgame) == 0 then
    fail('GAME_NOT_FOUND')
  end
  local start = 0
  local newest = rcall('LINDEX', c.klog, 0)
  if newest and before then
    start = math.max(0, cjson.decode(newest).v - before + 1)
  end
  -- one more than asked: whether there is a next page
  local raw = rcall('LRANGE', c.klog, start, start + limit)
  local out, last, more = {}, nil, false
  for _, entry in ipairs(raw) do
    local v = cjson.decode(entry).v
    if not before or v < before then
      if #out == limit then
        more = true
        break
      end
      out[#out + 1] = entry
      last = v
    end
  end
  local undoable = {}
  for i, entry in ipairs(rcall('LRANGE', c.kundo, 0, -1)) do
    local head = cjson.decode(string.sub(entry, 1, string.find(entry, '\n', 1, true) - 1))
    undoable[i] = string.format('%d', head.v)
  end
  return {
    'ok', '[' .. table.concat(out, ',') .. ']', '[' .. table.concat(undoable, ',') .. ']',
    more and string.format('%d', last) or '',
  }
end)
