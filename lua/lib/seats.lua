--[[
  lib/seats.lua: seat tokens and claims: checking a presented token against its stored
  digest, and giving up the seats a client holds.

  Provides: same_digest, seat_with_token, release_claims
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

-- The seat whose stored token digest is `digest` (the host moved its holder there:
-- move_seat.lua moves the token with the claim), or nil.
local function seat_with_token(st, c, digest)
  for _, p in ipairs(st.players) do
    if same_digest(rcall('HGET', c.kgame, 'tok:' .. p.id), digest) then
      return p
    end
  end
  return nil
end

-- Clears the seats held by c.client; with clear_tokens also their tokens, so the seat is
-- given up for others rather than kept for a reconnect (and the host role, if bound to one of
-- them, is bound to no seat any more: lib/host.lua). True when a seat was held.
local function release_claims(st, c, clear_tokens)
  local changed = false
  for _, p in ipairs(st.players) do
    if p.claimedBy == c.client then
      p.claimedBy = NULL
      changed = true
      if clear_tokens then
        rcall('HDEL', c.kgame, 'tok:' .. p.id, 'exp:' .. p.id)
        if st.hostSeat == p.id then
          st.hostSeat = NULL
        end
      end
    end
  end
  return changed
end
