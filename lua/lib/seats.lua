--[[
  lib/seats.lua: seat tokens and claims: checking a presented token against its stored
  digest, and giving up the seats a client holds.

  Provides: same_digest, release_claims
]]
--- @include "lib/context.lua"

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

-- Clears the seats held by c.client; with clear_tokens also their tokens, so the seat is
-- given up for others rather than kept for a reconnect. True when a seat was held.
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
