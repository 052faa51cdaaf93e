--[[
  lib/targeting.lua: HEAD's targeting (parallel priority, B6.2) on a decoded state: lists of
  ids, how targeting ends (completed, canceled, cleared) and what an elimination does to it.
  Like lib/rules.lua these change the state table and append to c.events only; commit()
  (lib/commit.lua) writes.

  Provides: MAX_TARGETS, index_of, remove_id, copy_ids, clear_targeting, complete_targeting, cancel_targeting, drop_target

  The fields (lib/state.lua targeting): targetingState "none" | "selecting" | "resolving",
  targetedPlayers (the active player's picks), awaitingPriority (the targets still to
  respond: their clocks all run at once, lib/state.lua running_ids) and originalActivePlayer
  (whose turn it is while targets respond; null otherwise). While resolving the active
  player is always the original one: the turn cannot pass over the targets (lua/switch.lua).
]]
--- @include "lib/context.lua"
--- @include "lib/state.lua"
--- @include "lib/formats.lua"

-- HEAD's TARGETING.MAX_TARGETS (which HEAD never enforced): every other seat of the largest table
local MAX_TARGETS = 7

local function index_of(list, id)
  for i, v in ipairs(list) do
    if v == id then
      return i
    end
  end
  return nil
end

local function remove_id(list, id)
  for i = #list, 1, -1 do
    if list[i] == id then
      table.remove(list, i)
    end
  end
end

-- An event's own copy of a list, so a later change to the state's list within the same
-- script does not show up in an event appended before it.
local function copy_ids(list)
  local out = {}
  for i, v in ipairs(list) do
    out[i] = v
  end
  return out
end

local function clear_targeting(st)
  st.targetingState = 'none'
  st.targetedPlayers = {}
  st.awaitingPriority = {}
  st.originalActivePlayer = NULL
end

-- The last target responded: the turn is the original player's again (the clock that runs
-- from now on), and `targetingComplete` says so.
local function complete_targeting(st, c)
  if not is_null(st.originalActivePlayer) then
    st.activePlayer = st.originalActivePlayer
  end
  clear_targeting(st)
  c.events[#c.events + 1] = { type = 'targetingComplete', data = { activePlayer = st.activePlayer } }
end

-- Targeting ends unfinished: the turn is `active` when given (a switch names whose turn it
-- becomes), else the original player's while targets respond, else the active player's.
local function cancel_targeting(st, c, active)
  if active == nil then
    active = is_null(st.originalActivePlayer) and st.activePlayer or st.originalActivePlayer
  end
  st.activePlayer = active
  clear_targeting(st)
  c.events[#c.events + 1] = { type = 'targetingCanceled', data = { activePlayer = active } }
end

-- An eliminated player leaves targeting, however they were eliminated (lib/rules.lua
-- eliminate calls this: eliminate, a life at or below 0, a game_loss penalty or timeout, a
-- kick). A target is dropped from both lists, and once nobody is left to respond targeting
-- completes. The active player eliminated while picking ends the selection, the turn going
-- on to the next player still in (HEAD left a stale selection, C18). The original player
-- eliminated while targets respond hands the turn to the next player still in, which is
-- where completion returns it (HEAD returned it to the eliminated player, and the game
-- stalled: C18). An elimination that decides the game does no more than drop the ids:
-- eliminate() then clears targeting with the rest and gameComplete is the only event, as in
-- HEAD, whose winner check came first.
local function drop_target(st, p, c)
  if targeting(st).targetingState == 'none' then
    return
  end
  remove_id(st.targetedPlayers, p.id)
  remove_id(st.awaitingPriority, p.id)
  if alive_sides(st) <= 1 then
    return
  end
  if st.targetingState == 'selecting' then
    if st.activePlayer == p.id then
      cancel_targeting(st, c, next_alive(st, p.id) or NULL)
    end
    return
  end
  if st.originalActivePlayer == p.id then
    st.originalActivePlayer = next_alive(st, p.id) or NULL
    st.activePlayer = st.originalActivePlayer
  end
  if #st.awaitingPriority == 0 then
    complete_targeting(st, c)
  end
end
