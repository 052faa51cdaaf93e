--[[
  lib/checks.lua: limits on the values a caller sends (settings, player updates). Pure
  functions of their arguments: no Redis call, nothing included.

  Provides: MAX_TIME, MAX_BONUS, PENALTIES, COLORS, TIMEOUT_SETTINGS, MAX_UNDO_WINDOW, is_int, check_undo_settings, utf8_len, check_thresholds, count_timeout_settings
]]
local MAX_TIME = 86400000
-- HEAD's MAX_BONUS_TIME: the turn bonus is at most 5 minutes
local MAX_BONUS = 300000
local PENALTIES = { warning = true, time_deduction = true, game_loss = true }
-- HEAD's timeout-choice settings (B3.3), each with its bounds in ms or units: HEAD clamped
-- lives and drunk to 0..20 and the bonus to 0..300000 and took any grace at all (C20); the
-- grace's bounds are ours (long enough to read the choice, short enough to keep a table going)
local TIMEOUT_SETTINGS = {
  { 'timeoutPenaltyLives', 0, 20 },
  { 'timeoutPenaltyDrunk', 0, 20 },
  { 'timeoutGracePeriod', 5000, 300000 },
  { 'timeoutBonusTime', 0, MAX_BONUS },
}
-- the client palette's ids (a player's colour is one of them or null); a fixed set, so no
-- caller's string ever reaches a renderer (C29)
local COLORS = {
  red = true, blue = true, green = true, yellow = true, purple = true, cyan = true,
  orange = true, pink = true, lime = true, teal = true, indigo = true, amber = true,
}

local function is_int(v, lo, hi)
  return type(v) == 'number' and v == math.floor(v) and v >= lo and v <= hi
end

-- The undo settings (undo.lua): `undoWindow`, the ms within which a player may undo their own
-- last action (0: only the host undoes), absent for the default. True when `s` is valid.
local MAX_UNDO_WINDOW = 300000
local function check_undo_settings(s)
  return s.undoWindow == nil or is_int(s.undoWindow, 0, MAX_UNDO_WINDOW)
end

local function utf8_len(s)
  local n = 0
  for i = 1, #s do
    local b = string.byte(s, i)
    if b < 128 or b >= 192 then
      n = n + 1
    end
  end
  return n
end

local function check_thresholds(list)
  if type(list) ~= 'table' or #list < 1 or #list > 10 then
    return false
  end
  for _, t in ipairs(list) do
    if not is_int(t, 1, MAX_TIME) then
      return false
    end
  end
  return true
end

-- How many of the timeout settings the table `u` names; nil when one of them is out of range.
local function count_timeout_settings(u)
  local n = 0
  for _, s in ipairs(TIMEOUT_SETTINGS) do
    local v = u[s[1]]
    if v ~= nil then
      if not is_int(v, s[2], s[3]) then
        return nil
      end
      n = n + 1
    end
  end
  return n
end
