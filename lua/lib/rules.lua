--[[
  lib/rules.lua: the clock rules applied to a decoded state: charging the running clock
  (with its warnings and timeout), penalties, elimination and who runs next. They change
  the state table and append to c.events only; commit() (lib/commit.lua) writes.

  Provides: drop_interrupter, eliminate, check_loss, apply_penalty, choice_event, offer_choice, announce_choices, time_out, charge, run_grace, expire_choices, settle, ensure_active, grant_bonus, grant_increment, hand_turn, run_turn, pass_capped, MAX_CAPPED
]]
--- @include "lib/context.lua"
--- @include "lib/checks.lua"
--- @include "lib/state.lua"
--- @include "lib/clocks.lua"
--- @include "lib/targeting.lua"
--- @include "lib/campaign.lua"
--- @include "lib/formats.lua"

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

-- Takes a player out, saying why (`reason`: "life", "poison", "commanderDamage", "concede",
-- "timeout", "penalty", "host" or "kicked", kept as the player's eliminatedReason); in
-- two-headed giant the teammate goes out with them (a team loses together). The player
-- leaves targeting (lib/targeting.lua drop_target), and the turn passes to the next alive
-- player in turn order: once the game has begun, a new turn (lib/clocks.lua begin_turn).
-- When one player (or none) is left, or one team, the game is finished with the first of
-- them as `winner` (two-headed giant's gameComplete names the team too: winnerTeam),
-- targeting and the stack cleared, and `gameComplete` is appended to the events, so commit()
-- publishes it before the state; its `summary` is each player's time used and turns
-- (lib/clocks.lua turn_summary). A finished game is never finished again, which keeps
-- gameComplete to exactly once per game (until reset). In a campaign the game was a round
-- (lib/campaign.lua round_over): the state may then be the next round's.
local function eliminate(st, p, c, reason)
  local out = { p }
  local mate = teammate(st, p)
  if mate and not mate.isEliminated then
    out[2] = mate
  end
  local was_active = nil
  for _, q in ipairs(out) do
    if st.activePlayer == q.id then
      was_active = q.id
    end
    q.isEliminated = true
    q.eliminatedReason = reason or NULL
    clear_choice(q)
    drop_interrupter(st, q.id)
  end
  for _, q in ipairs(out) do
    drop_target(st, q, c)
  end
  if alive_sides(st) <= 1 and st.status ~= 'finished' then
    st.status = 'finished'
    st.interruptingPlayers = {}
    clear_targeting(st)
    st.winner = NULL
    local name, team = NULL, {}
    for _, q in ipairs(st.players) do
      if not q.isEliminated then
        team[#team + 1] = q.id
        if is_null(st.winner) or q.id < st.winner then
          st.winner, name = q.id, q.name
        end
      end
    end
    st.activePlayer = NULL
    local data = { winnerId = st.winner, winnerName = name, summary = turn_summary(st) }
    if is_teams(st) and #team > 0 then
      table.sort(team)
      data.winnerTeam = team
    end
    c.events[#c.events + 1] = { type = 'gameComplete', data = data }
    -- in a campaign this was a round: the next one is set up, or the campaign completed
    round_over(st, c)
  elseif was_active then
    -- targeting may have handed the turn on already (lib/targeting.lua drop_target)
    local to = st.activePlayer
    local held = player(st, to)
    if not held or held.isEliminated then
      to = next_alive(st, was_active)
    end
    if st.status == 'waiting' or is_null(to) then
      st.activePlayer = to or NULL
    else
      begin_turn(st, to, was_active)
    end
  end
end

-- The game's loss rules (lib/formats.lua loss_reason) applied to a player whose life, poison
-- or commander damage just changed, in the same step: out with the reason, unless already
-- out or the game is finished, where nothing is decided any more.
local function check_loss(st, p, c)
  if p.isEliminated or st.status == 'finished' then
    return
  end
  local reason = loss_reason(st, p)
  if reason then
    eliminate(st, p, c, reason)
  end
end

local function apply_penalty(st, p, c)
  local kind = st.settings.penaltyType
  if kind == 'time_deduction' then
    p.timeRemaining = math.max(0, p.timeRemaining - st.settings.penaltyTimeDeduction)
  elseif kind == 'game_loss' and not p.isEliminated then
    eliminate(st, p, c, 'penalty')
  end
end

-- HEAD's `timeoutChoice` event: who must choose, what each choice costs, and until when.
local function choice_event(st, p)
  local s = st.settings
  return {
    type = 'timeoutChoice',
    data = {
      playerId = p.id,
      options = { livesLoss = s.timeoutPenaltyLives, drunkGain = s.timeoutPenaltyDrunk },
      deadline = choice_deadline(st, p) or NULL,
    },
  }
end

-- HEAD's timeout (B4): one penalty, and the player must choose (timeout_choice.lua) within
-- the grace period, which counts from the moment the clock reached zero, `late` ms before
-- serverTime; the game keeps running. The choice is the penalty: the penalty type is not
-- applied. A player already choosing is not timed out again (a clock given time while the
-- choice is pending may run down once more).
local function offer_choice(st, p, c, late)
  if p.timeoutPending == true then
    return
  end
  p.penalties = p.penalties + 1
  p.timeoutPending = true
  p.timeoutGraceLeft = st.settings.timeoutGracePeriod - late
  c.events[#c.events + 1] = choice_event(st, p)
end

-- A game that resumes tells everyone again of each pending choice: its deadline moved while
-- the grace stood still, and a client counting down to the old one would close the choice.
local function announce_choices(st, c)
  for _, p in ipairs(st.players) do
    if choice_deadline(st, p) then
      c.events[#c.events + 1] = choice_event(st, p)
    end
  end
end

-- A clock that reached zero from above, `late` ms before serverTime. In a game with the
-- timeout choice, the choice (offer_choice). Otherwise v1's timeout: the player takes a
-- penalty and the game pauses, with `timeout` appended to the events, and the penalty
-- type's effect.
local function time_out(st, p, c, late)
  if has_timeout_choice(st) then
    offer_choice(st, p, c, late)
    return
  end
  st.status = 'paused'
  p.penalties = p.penalties + 1
  c.events[#c.events + 1] = { type = 'timeout', data = { playerId = p.id } }
  apply_penalty(st, p, c)
end

-- Charges one running clock `elapsed` ms, which ended `after` ms before now (0 when not
-- given), and fires every threshold crossed on the way (prev > T >= now), then the timeout
-- when it reaches zero from above. A clock that was already at zero does not time out again,
-- so resuming cannot loop. What it takes off the clock counts in the player's timeUsed.
local function charge(st, p, elapsed, c, after)
  local prev = p.timeRemaining
  local rem = math.max(0, prev - elapsed)
  p.timeRemaining = rem
  p.timeUsed = (p.timeUsed or 0) + prev - rem
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
    time_out(st, p, c, elapsed - prev + (after or 0))
  end
end

-- The pending timeout choices' grace runs `elapsed` ms, whoever's clock runs.
local function run_grace(st, elapsed)
  for _, p in ipairs(st.players) do
    if p.timeoutPending == true and not p.isEliminated then
      p.timeoutGraceLeft = p.timeoutGraceLeft - elapsed
    end
  end
end

-- Every pending choice whose grace has run out resolves as "die" (HEAD's deadline expiry),
-- the earliest deadline first, until the game is decided. True when one did.
local function expire_choices(st, c)
  local out = {}
  for i, p in ipairs(st.players) do
    if p.timeoutPending == true and not p.isEliminated and p.timeoutGraceLeft <= 0 then
      out[#out + 1] = { p = p, i = i }
    end
  end
  table.sort(out, function(a, b)
    if a.p.timeoutGraceLeft ~= b.p.timeoutGraceLeft then
      return a.p.timeoutGraceLeft < b.p.timeoutGraceLeft
    end
    return a.i < b.i
  end)
  local resolved = false
  for _, e in ipairs(out) do
    -- a decided game, or a campaign round that ended into the next (its players fresh)
    if st.status ~= 'running' or c.round_ended then
      break
    end
    -- a two-headed giant teammate may have gone out with the one before
    if not e.p.isEliminated then
      eliminate(st, e.p, c, 'timeout')
    end
    resolved = true
  end
  return resolved
end

-- The bonus of a real turn pass (HEAD's bonusTime, B6.4): added to the player whose turn
-- it becomes, capped at MAX_TIME. A game created without a bonus (a v1 create) has none.
local function grant_bonus(st, p)
  local bonus = st.settings.bonusTime or 0
  local before = p.timeRemaining
  p.timeRemaining = math.min(MAX_TIME, before + bonus)
  return p.timeRemaining - before
end

-- The Fischer increment of a real turn pass: added to the player who passed, capped at
-- MAX_TIME. Other time controls have none.
local function grant_increment(st, p)
  local kind, ms = time_control(st)
  if kind ~= 'fischer' or not p or p.isEliminated then
    return 0
  end
  local before = p.timeRemaining
  p.timeRemaining = math.min(MAX_TIME, before + ms)
  return p.timeRemaining - before
end

-- The turn goes to `to`, another player than the active one (lua/switch.lua, and the turn
-- cap's pass). While running it is a real turn pass: the bonus to `to`, the increment to
-- the player who passed. Targeting ends (`targetingCanceled` names `to`). Once the game has
-- begun it is a new turn (lib/clocks.lua begin_turn); while waiting only who starts.
-- Returns the bonus and the increment granted.
local function hand_turn(st, c, to)
  local from = st.activePlayer
  local bonus, increment = 0, 0
  if st.status == 'running' then
    bonus = grant_bonus(st, to)
    increment = grant_increment(st, player(st, from))
  end
  if targeting(st).targetingState ~= 'none' then
    cancel_targeting(st, c, to.id)
  end
  if st.status == 'waiting' then
    st.activePlayer = to.id
  else
    begin_turn(st, to.id, from)
  end
  return bonus, increment
end

-- At most this many turns pass by the cap in one stretch of time. A stretch that long comes
-- only after the deadline loop was down for as many caps in a row; the rest of it is not
-- charged, so a script's run time stays bounded.
local MAX_CAPPED = 16

-- The active player's own clock runs `elapsed` ms of the turn (lib/state.lua own_turn).
-- Bronstein: the turn's first timeControlMs cost nothing. Turn cap: at cap - warning lead
-- `turnCapWarning {playerId, remaining}` (ms left of the turn), and when turnTime reaches the
-- cap `turnCapped {playerId, nextPlayerId}` and the turn passes (hand_turn), the rest of the
-- stretch running on the next player's turn. Nothing more once the clock's timeout stops the
-- game (v1's pause, a game_loss).
local function run_turn(st, c, elapsed)
  local kind, ms, lead = time_control(st)
  for _ = 1, MAX_CAPPED do
    local p = player(st, st.activePlayer)
    local t0 = st.turnTime or 0
    local step = elapsed
    if kind == 'turnCap' then
      step = math.min(elapsed, math.max(0, ms - t0))
    end
    elapsed = elapsed - step
    st.turnTime = t0 + step
    local free = 0
    if kind == 'bronstein' then
      free = math.min(step, math.max(0, ms - t0))
    end
    charge(st, p, step - free, c, elapsed)
    if kind ~= 'turnCap' or st.status ~= 'running' or c.round_ended then
      return
    end
    if lead > 0 and t0 < ms - lead and st.turnTime >= ms - lead then
      c.events[#c.events + 1] = { type = 'turnCapWarning', data = { playerId = p.id, remaining = ms - st.turnTime } }
    end
    if st.turnTime < ms then
      return
    end
    local to = player(st, next_alive(st, p.id))
    c.events[#c.events + 1] = { type = 'turnCapped', data = { playerId = p.id, nextPlayerId = to.id } }
    hand_turn(st, c, to)
  end
end

-- A game resuming with its turn's cap already reached (the clock ran out on the cap's own
-- moment, and v1's timeout paused it there) passes that turn at once: not at whichever later
-- action first finds time gone by, which would make the pass depend on that action's timing.
local function pass_capped(st, c)
  local kind, ms = time_control(st)
  if kind == 'turnCap' and st.status == 'running' and own_turn(st) and (st.turnTime or 0) >= ms then
    run_turn(st, c, 0)
  end
end

-- Charges every running clock (running_ids: the interrupter holding priority, else each
-- target still to respond, else the active player) up to now. The set is taken once, before
-- any charge, so a timeout on the way does not change who is charged for the same stretch.
-- The active player's own clock runs the turn's time controls (run_turn). The pending
-- timeout choices' grace runs for the same stretch, and each that has run out resolves as
-- "die". True when one did (a change that may append no event).
local function settle(st, c)
  local elapsed = c.now - st.serverTime
  if elapsed <= 0 then
    -- Redis time stepped back (NTP, failover): charge nothing and keep the later timestamp,
    -- or the same stretch would be charged twice
    return false
  end
  st.serverTime = c.now
  if st.status ~= 'running' then
    return false
  end
  -- the game's running time (monotonic): an undo charges the restored clocks what ran since
  st.runTime = (st.runTime or 0) + elapsed
  -- before the charge: a choice offered on the way has its grace counted from its own zero
  run_grace(st, elapsed)
  if own_turn(st) then
    run_turn(st, c, elapsed)
  else
    for _, p in ipairs(running_ids(st)) do
      -- a campaign round that a timeout just ended has set every clock for the next round
      if c.round_ended then
        break
      end
      charge(st, p, elapsed, c)
    end
  end
  return expire_choices(st, c)
end

-- Picks who runs when a clock starts: the active player if still in the game, else the
-- next one in turn order, which once the game has begun is a new turn.
local function ensure_active(st)
  local a = st.activePlayer
  local to = a
  if is_null(a) then
    to = next_alive(st, 0)
  else
    local p = player(st, a)
    if not p or p.isEliminated then
      to = next_alive(st, a)
    end
  end
  if to ~= a and to ~= nil and (st.turn or 0) > 0 then
    begin_turn(st, to, a)
  else
    st.activePlayer = to
  end
end
