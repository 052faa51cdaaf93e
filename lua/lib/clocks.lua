--[[
  lib/clocks.lua: the time controls (settings.timeControl) and the turn accounting on a
  decoded state. Which control a game plays and its bounds, how much of the turn a Bronstein
  delay still covers, when the turn cap is next due, and begin_turn: the one way a new turn
  begins (lib/rules.lua, lua/start.lua). These change the state table only; nothing here
  writes or appends events.

  Provides: TIME_CONTROLS, MIN_CONTROL_MS, MAX_CONTROL_MS, check_time_control, merge_time_control, time_control, delay_left, cap_in, seat_index, begin_turn, reset_turns, turn_summary

  The settings: timeControl "suddenDeath" | "fischer" | "bronstein" | "turnCap" (absent:
  "suddenDeath", a v1 or HEAD create), timeControlMs (the Fischer increment, the Bronstein
  delay or the turn cap, MIN_CONTROL_MS..MAX_CONTROL_MS; absent for sudden death) and, for
  the turn cap only, turnCapWarningMs (0..cap - 1 ms before the cap: the warning's lead, 0
  for none).

  The state: turn (turns begun; 0 while waiting), round (see begin_turn), turnTime (ms the
  active player's own clock has run this turn: not while an interrupter or targets hold
  priority; a Bronstein delay counts), firstPlayer (whose turn 1 was) and each player's
  timeUsed (ms taken off their clock by the running clock) and turns (turns begun). A state
  stored before these existed has none: each reads as 0 (firstPlayer as the first seat).
]]
--- @include "lib/context.lua"
--- @include "lib/checks.lua"

local TIME_CONTROLS = { suddenDeath = true, fischer = true, bronstein = true, turnCap = true }
-- the amount's bounds: a second (shorter would be no more than a tap) to an hour
local MIN_CONTROL_MS = 1000
local MAX_CONTROL_MS = 3600000

-- The time control fields of `s` (create's settings, or the merged settings of an update)
-- hold together: a known control, its amount when it has one, the warning lead for a cap only.
local function check_time_control(s)
  local kind, ms, lead = s.timeControl, s.timeControlMs, s.turnCapWarningMs
  if kind == nil or kind == 'suddenDeath' then
    return ms == nil and lead == nil
  end
  if type(kind) ~= 'string' or not TIME_CONTROLS[kind] or not is_int(ms, MIN_CONTROL_MS, MAX_CONTROL_MS) then
    return false
  end
  if kind == 'turnCap' then
    return is_int(lead, 0, ms - 1)
  end
  return lead == nil
end

-- The time control an update `u` leaves the settings `s` with: u's control whole when it
-- names one, else s's with the amounts u names. nil when u names no time control field;
-- false when the result does not hold together (check_time_control).
local function merge_time_control(s, u)
  if u.timeControl == nil and u.timeControlMs == nil and u.turnCapWarningMs == nil then
    return nil
  end
  local tc = { timeControl = u.timeControl, timeControlMs = u.timeControlMs, turnCapWarningMs = u.turnCapWarningMs }
  if u.timeControl == nil then
    tc.timeControl = s.timeControl
    tc.timeControlMs = u.timeControlMs or s.timeControlMs
    tc.turnCapWarningMs = u.turnCapWarningMs or s.turnCapWarningMs
  end
  if not check_time_control(tc) then
    return false
  end
  return tc
end

-- The game's control, its amount and the cap's warning lead (0 where it has none).
local function time_control(st)
  local s = st.settings
  local kind = s.timeControl
  if type(kind) ~= 'string' or not TIME_CONTROLS[kind] or kind == 'suddenDeath' then
    return 'suddenDeath', 0, 0
  end
  return kind, s.timeControlMs, s.turnCapWarningMs or 0
end

-- What is left of the turn's Bronstein delay: the first ms of the turn cost nothing.
local function delay_left(st)
  local kind, ms = time_control(st)
  if kind ~= 'bronstein' then
    return 0
  end
  return math.max(0, ms - (st.turnTime or 0))
end

-- The ms of the active player's own clock until the turn cap is next due (its warning, then
-- the pass; 0 when it is due now); nil without a cap.
local function cap_in(st)
  local kind, ms, lead = time_control(st)
  if kind ~= 'turnCap' then
    return nil
  end
  local tt = st.turnTime or 0
  if lead > 0 and tt < ms - lead then
    return ms - lead - tt
  end
  return math.max(0, ms - tt)
end

local function seat_index(st, pid)
  for i, p in ipairs(st.players) do
    if p.id == pid then
      return i, p
    end
  end
  return nil
end

-- Player `to` begins a turn, the turn of `from` (nil: this is the game's first turn, and a
-- state that has counted none takes it as one too). Round: turn 1 begins round 1; a later
-- turn begins a new round when its player sits, counting seats in turn order from the
-- player who had turn 1, at or before the player whose turn it was: the order wrapped.
-- With seats 1-4 and player 1 first, 4 -> 1 begins round 2 (and so does 4 -> 2 with player
-- 1 out); with player 3 first, 2 -> 3 does. A turn from nobody (a revived game) is no wrap.
local function begin_turn(st, to, from)
  local i, p = seat_index(st, to)
  st.activePlayer = to
  st.turnTime = 0
  p.turns = (p.turns or 0) + 1
  if from == nil or (st.turn or 0) == 0 then
    st.turn, st.round, st.firstPlayer = 1, 1, to
    return
  end
  st.turn = st.turn + 1
  local n = #st.players
  local f = seat_index(st, st.firstPlayer) or 1
  local j = seat_index(st, from)
  if j and (i - f) % n <= (j - f) % n then
    st.round = (st.round or 0) + 1
  end
end

-- No turn yet: a new game, a reset, a campaign's next round.
local function reset_turns(st)
  st.turn, st.round, st.turnTime, st.firstPlayer = 0, 0, 0, NULL
  for _, p in ipairs(st.players) do
    p.timeUsed, p.turns = 0, 0
  end
end

-- gameComplete's summary: each player's time used and turns, in seat order (never empty:
-- a game has 2 to 8 players).
local function turn_summary(st)
  local out = {}
  for i, p in ipairs(st.players) do
    out[i] = { playerId = p.id, timeUsed = p.timeUsed or 0, turns = p.turns or 0 }
  end
  return out
end
