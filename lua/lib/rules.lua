--[[
  lib/rules.lua: the clock rules applied to a decoded state: charging the running clock
  (with its warnings and timeout), penalties, elimination and who runs next. They change
  the state table and append to c.events only; commit() (lib/commit.lua) writes.

  Provides: eliminate, apply_penalty, settle, ensure_active
]]
--- @include "lib/context.lua"
--- @include "lib/state.lua"

local function eliminate(st, p)
  p.isEliminated = true
  local alive = alive_count(st)
  if alive <= 1 then
    st.status = 'finished'
    st.winner = NULL
    for _, q in ipairs(st.players) do
      if not q.isEliminated then
        st.winner = q.id
      end
    end
    st.activePlayer = NULL
  elseif st.activePlayer == p.id then
    st.activePlayer = next_alive(st, p.id)
  end
end

local function apply_penalty(st, p)
  local kind = st.settings.penaltyType
  if kind == 'time_deduction' then
    p.timeRemaining = math.max(0, p.timeRemaining - st.settings.penaltyTimeDeduction)
  elseif kind == 'game_loss' and not p.isEliminated then
    eliminate(st, p)
  end
end

-- Charges the running clock up to now and fires every threshold crossed on the way
-- (prev > T >= now), then the timeout when the clock reaches zero from above. A clock
-- that was already at zero does not time out again, so resuming cannot loop.
local function settle(st, c)
  local elapsed = c.now - st.serverTime
  if elapsed <= 0 then
    -- Redis time stepped back (NTP, failover): charge nothing and keep the later timestamp,
    -- or the same stretch would be charged twice
    return
  end
  st.serverTime = c.now
  if st.status ~= 'running' or is_null(st.activePlayer) then
    return
  end
  local p = player(st, st.activePlayer)
  if not p or p.isEliminated then
    return
  end
  local prev = p.timeRemaining
  local rem = math.max(0, prev - elapsed)
  p.timeRemaining = rem
  local crossed = {}
  for _, t in ipairs(st.settings.warningThresholds) do
    if prev > t and t >= rem then
      crossed[#crossed + 1] = t
    end
  end
  table.sort(crossed, function(a, b) return a > b end)
  for _, t in ipairs(crossed) do
    c.events[#c.events + 1] = { type = 'warning', data = { playerId = p.id, threshold = t } }
  end
  if prev > 0 and rem == 0 then
    st.status = 'paused'
    p.penalties = p.penalties + 1
    c.events[#c.events + 1] = { type = 'timeout', data = { playerId = p.id } }
    apply_penalty(st, p)
  end
end

-- Picks who runs when a clock starts: the active player if still in the game, else the
-- next one in turn order.
local function ensure_active(st)
  local a = st.activePlayer
  if is_null(a) then
    st.activePlayer = next_alive(st, 0)
    return
  end
  local p = player(st, a)
  if not p or p.isEliminated then
    st.activePlayer = next_alive(st, a)
  end
end
