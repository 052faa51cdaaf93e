--[[
  lib/rules.lua: the clock rules applied to a decoded state: charging the running clock
  (with its warnings and timeout), penalties, elimination and who runs next. They change
  the state table and append to c.events only; commit() (lib/commit.lua) writes.

  Provides: drop_interrupter, eliminate, apply_penalty, time_out, charge, settle, ensure_active, grant_bonus
]]
--- @include "lib/context.lua"
--- @include "lib/checks.lua"
--- @include "lib/state.lua"
--- @include "lib/campaign.lua"

-- Removes every entry of a player from the interrupt stack: an eliminated (or kicked)
-- player never holds priority, or nobody's clock would run (HEAD's C16).
local function drop_interrupter(st, pid)
  local s = interrupters(st)
  for i = #s, 1, -1 do
    if s[i] == pid then
      table.remove(s, i)
    end
  end
end

-- Takes a player out; the turn passes to the next alive player in turn order. When one
-- player (or none) is left, the game is finished and `gameComplete` is appended to the
-- events, so commit() publishes it before the state. A finished game is never finished
-- again, which keeps gameComplete to exactly once per game (until reset). In a campaign the
-- game was a round (lib/campaign.lua round_over): the state may then be the next round's.
local function eliminate(st, p, c)
  p.isEliminated = true
  drop_interrupter(st, p.id)
  if alive_count(st) <= 1 and st.status ~= 'finished' then
    st.status = 'finished'
    st.interruptingPlayers = {}
    st.winner = NULL
    local name = NULL
    for _, q in ipairs(st.players) do
      if not q.isEliminated then
        st.winner, name = q.id, q.name
      end
    end
    st.activePlayer = NULL
    c.events[#c.events + 1] = { type = 'gameComplete', data = { winnerId = st.winner, winnerName = name } }
    -- in a campaign this was a round: the next one is set up, or the campaign completed
    round_over(st, c)
  elseif st.activePlayer == p.id then
    st.activePlayer = next_alive(st, p.id) or NULL
  end
end

local function apply_penalty(st, p, c)
  local kind = st.settings.penaltyType
  if kind == 'time_deduction' then
    p.timeRemaining = math.max(0, p.timeRemaining - st.settings.penaltyTimeDeduction)
  elseif kind == 'game_loss' and not p.isEliminated then
    eliminate(st, p, c)
  end
end

-- A clock that reached zero from above: the player takes a penalty and the game pauses,
-- with `timeout` appended to the events, and the penalty type's effect (v1's timeout).
local function time_out(st, p, c)
  st.status = 'paused'
  p.penalties = p.penalties + 1
  c.events[#c.events + 1] = { type = 'timeout', data = { playerId = p.id } }
  apply_penalty(st, p, c)
end

-- Charges one running clock `elapsed` ms and fires every threshold crossed on the way
-- (prev > T >= now), then the timeout when it reaches zero from above. A clock that was
-- already at zero does not time out again, so resuming cannot loop.
local function charge(st, p, elapsed, c)
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
    time_out(st, p, c)
  end
end

-- Charges every running clock (running_ids: the interrupter holding priority, else each
-- target still to respond, else the active player) up to now. The set is taken once, before
-- any charge, so a timeout on the way does not change who is charged for the same stretch.
local function settle(st, c)
  local elapsed = c.now - st.serverTime
  if elapsed <= 0 then
    -- Redis time stepped back (NTP, failover): charge nothing and keep the later timestamp,
    -- or the same stretch would be charged twice
    return
  end
  st.serverTime = c.now
  if st.status ~= 'running' then
    return
  end
  for _, p in ipairs(running_ids(st)) do
    -- a campaign round that a timeout just ended has set every clock for the next round
    if c.round_ended then
      break
    end
    charge(st, p, elapsed, c)
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

-- The bonus of a real turn pass (HEAD's bonusTime, B6.4): added to the player whose turn
-- it becomes, capped at MAX_TIME. A game created without a bonus (a v1 create) has none.
local function grant_bonus(st, p)
  local bonus = st.settings.bonusTime or 0
  local before = p.timeRemaining
  p.timeRemaining = math.min(MAX_TIME, before + bonus)
  return p.timeRemaining - before
end
