--[[
  lib/campaign.lua: HEAD's campaign mode (B6.10): one table plays a series of rounds, each
  round a game of its own, and the campaign keeps the score across them. The state's
  `campaign` (present only when `mode` is "campaign") holds the preset's name and config,
  the round, per-player stats, points and levels, this round's damage and the round history.

  The preset table itself is the service's (service/campaign.py): create.lua is handed the
  chosen preset's config, checks its bounds here and stores it in the state, where every
  later script reads it. So no script holds the table, and each game keeps the rules it was
  created with.

  Provides: MAX_ROUNDS, WIN_RULES, CONFIG_FIELDS, seat_key, campaign_of, number_list, check_campaign, round_time, deal_hand, new_campaign, starting_life, ready_table, rescore, acting_player, note_player, campaign_winner, round_over, restart_game
]]
--- @include "lib/context.lua"
--- @include "lib/checks.lua"
--- @include "lib/state.lua"
--- @include "lib/formats.lua"
--- @include "lib/clocks.lua"

local MAX_ROUNDS = 10
local WIN_RULES = { best_of = true, first_to = true, total_time = true, total_points = true }
local CONFIG_FIELDS = {
  name = true, rounds = true, timePerRound = true, timeDecrease = true, minTime = true, startingLife = true,
  bonusTime = true, winCondition = true, winTarget = true, startingHandSize = true, handSizeIncrement = true,
  scoring = true,
}

-- Maps of the campaign are keyed by player id as a string: a JSON object's keys are strings,
-- and a table keyed 1..n would be encoded as an array.
local function seat_key(pid)
  return string.format('%d', pid)
end

local function campaign_of(st)
  if st.mode == 'campaign' and type(st.campaign) == 'table' then
    return st.campaign
  end
  return nil
end

-- An array of n_lo..n_hi numbers, each within lo..hi (integers when `whole`), and nothing else.
local function number_list(list, n_lo, n_hi, lo, hi, whole)
  if type(list) ~= 'table' or #list < n_lo or #list > n_hi then
    return false
  end
  local n = 0
  for _ in pairs(list) do
    n = n + 1
  end
  if n ~= #list then
    return false
  end
  for _, v in ipairs(list) do
    if type(v) ~= 'number' or not (v >= lo and v <= hi) or (whole and v ~= math.floor(v)) then
      return false
    end
  end
  return true
end

-- The {preset, config} create.lua is given: within the bounds the rest of this file relies on
-- (at most MAX_ROUNDS rounds, clocks within a day, known fields only), so that no caller's
-- value can grow the state or stop a later script.
local function check_campaign(arg)
  if type(arg) ~= 'table' or type(arg.preset) ~= 'string' or not string.match(arg.preset, '^[a-z_]+$')
      or #arg.preset > 20 or type(arg.config) ~= 'table' then
    return false
  end
  local cfg = arg.config
  for k in pairs(cfg) do
    if not CONFIG_FIELDS[k] then
      return false
    end
  end
  if type(cfg.name) ~= 'string' or utf8_len(cfg.name) < 1 or #cfg.name > 200 or utf8_len(cfg.name) > 50
      or not is_int(cfg.rounds, 1, MAX_ROUNDS) or not is_int(cfg.timePerRound, 1, MAX_TIME)
      or not is_int(cfg.timeDecrease, 0, MAX_TIME) or not is_int(cfg.minTime, 1, cfg.timePerRound)
      or not is_int(cfg.startingLife, 1, 9999) or (cfg.bonusTime ~= nil and not is_int(cfg.bonusTime, 0, MAX_BONUS))
      or not WIN_RULES[cfg.winCondition] then
    return false
  end
  local by_wins = cfg.winCondition == 'best_of' or cfg.winCondition == 'first_to'
  if (by_wins and not is_int(cfg.winTarget, 1, cfg.rounds)) or (not by_wins and cfg.winTarget ~= nil)
      or (cfg.startingHandSize ~= nil and not is_int(cfg.startingHandSize, 0, 99))
      or (cfg.handSizeIncrement ~= nil and not is_int(cfg.handSizeIncrement, 0, 99)) then
    return false
  end
  local sc = cfg.scoring
  if sc == nil then
    return true
  end
  if type(sc) ~= 'table' then
    return false
  end
  for k in pairs(sc) do
    if k ~= 'playerMultipliers' and k ~= 'battleMultipliers' and k ~= 'levelThresholds' then
      return false
    end
  end
  -- playerMultipliers[n + 1]: n distinct targets damaged (0..7); battleMultipliers[r]: round r
  if not number_list(sc.playerMultipliers, 8, 8, 0, 100) or not number_list(sc.battleMultipliers, 1, MAX_ROUNDS, 0, 100)
      or not number_list(sc.levelThresholds, 0, 10, 1, MAX_TIME, true) then
    return false
  end
  for i = 2, #sc.levelThresholds do
    if sc.levelThresholds[i] <= sc.levelThresholds[i - 1] then
      return false
    end
  end
  return true
end

-- The clock of round r: the preset's time, less its decrease for each round before, never
-- below its floor.
local function round_time(cfg, r)
  return math.max(cfg.minTime, cfg.timePerRound - (r - 1) * cfg.timeDecrease)
end

-- HEAD's handSize, for a preset that deals hands: the starting size plus the increment for
-- each round before.
local function deal_hand(cp)
  local cfg = cp.config
  if cfg.startingHandSize ~= nil then
    cp.handSize = cfg.startingHandSize + (cp.currentRound - 1) * (cfg.handSizeIncrement or 0)
  end
end

-- Round 1 of a campaign for these players (their names as they stand).
local function new_campaign(arg, players)
  local cfg = arg.config
  local cp = {
    preset = arg.preset, config = cfg, currentRound = 1, maxRounds = cfg.rounds, status = 'in_progress',
    winner = NULL, playerStats = {}, damageTracker = {}, playerPoints = {}, playerLevels = {}, playerNames = {},
    history = {},
  }
  for _, p in ipairs(players) do
    local k = seat_key(p.id)
    -- eliminations: HEAD's field, which nothing ever counted; kept for its clients
    cp.playerStats[k] = {
      wins = 0, losses = 0, totalTimeUsed = 0, penalties = 0, eliminations = 0, accumulatedPoints = 0,
    }
    cp.playerPoints[k] = 0
    cp.playerLevels[k] = 1
    cp.playerNames[k] = p.name
  end
  deal_hand(cp)
  return cp
end

-- A player's life at the start: a campaign's preset's, else the game's (its format's or its
-- own startingLife), else 20 for a game stored before either.
local function starting_life(st)
  local cp = campaign_of(st)
  return cp and cp.config.startingLife or st.settings.startingLife or START_LIFE
end

-- The table as before a first start, with `time` on every clock and `life` for everyone:
-- penalties, counters (poison, energy, experience and commander damage too), eliminations
-- and their reasons, pending timeout choices, the winner, the interrupt stack, any targeting
-- and the turn counters (lib/clocks.lua reset_turns) cleared. Seats, names and colours stay
-- (and the seat tokens, which are not in the state), so the same players go on at once.
local function ready_table(st, time, life)
  st.settings.initialTime = time
  st.status = 'waiting'
  st.activePlayer = NULL
  st.winner = NULL
  st.interruptingPlayers = {}
  st.targetingState = 'none'
  st.targetedPlayers = {}
  st.awaitingPriority = {}
  st.originalActivePlayer = NULL
  for _, p in ipairs(st.players) do
    p.timeRemaining = time
    p.penalties = 0
    p.isEliminated = false
    p.life = life
    p.drunkCounter = 0
    p.genericCounter = 0
    reset_counters(p, #st.players)
    clear_choice(p)
  end
  reset_turns(st)
end

-- Every player's points and level from this round's damage (HEAD's Wastelands scoring):
-- points = accumulatedPoints + floor(roundDamage x playerMultipliers[distinct targets] x
-- battleMultipliers[round]); level = 1 + the thresholds reached. A preset without a scoring
-- rule counts the damage dealt as it is, and everyone stays at level 1.
local function rescore(cp)
  local sc = cp.config.scoring
  for k, s in pairs(cp.playerStats) do
    local dealt, targets = 0, 0
    for _, dmg in pairs(cp.damageTracker[k] or {}) do
      dealt = dealt + dmg
      targets = targets + 1
    end
    local gain, level = dealt, 1
    if sc then
      local pm = sc.playerMultipliers[math.min(targets, #sc.playerMultipliers - 1) + 1]
      local bm = sc.battleMultipliers[math.min(cp.currentRound, #sc.battleMultipliers)]
      gain = math.floor(dealt * pm * bm)
    end
    cp.playerPoints[k] = s.accumulatedPoints + gain
    for _, t in ipairs(sc and sc.levelThresholds or {}) do
      if cp.playerPoints[k] >= t then
        level = level + 1
      end
    end
    cp.playerLevels[k] = level
  end
end

-- Who is acting when a life goes down (HEAD's attribution): the interrupter holding priority,
-- else while targets resolve the player who targeted them, else the active player.
local function acting_player(st)
  local stack = interrupters(st)
  if #stack > 0 then
    return stack[#stack]
  end
  if targeting(st).targetingState == 'resolving' and not is_null(st.originalActivePlayer) then
    return st.originalActivePlayer
  end
  return st.activePlayer
end

-- To be called after any change to a player's name or life (`life_before`: the life it had).
-- The campaign remembers the name, and while a round runs a loss of life is damage dealt by
-- the acting player (never to themselves), which rescores everyone.
local function note_player(st, p, life_before)
  local cp = campaign_of(st)
  if not cp then
    return
  end
  local k = seat_key(p.id)
  cp.playerNames[k] = p.name
  if cp.status ~= 'in_progress' or st.status ~= 'running' or p.life >= life_before then
    return
  end
  local by = acting_player(st)
  if is_null(by) or by == p.id or not player(st, by) then
    return
  end
  local row = cp.damageTracker[seat_key(by)] or {}
  row[k] = (row[k] or 0) + life_before - p.life
  cp.damageTracker[seat_key(by)] = row
  rescore(cp)
end

-- The campaign's winner once it is decided (C9: HEAD never asked after the last round), nil
-- while it goes on, NULL for a draw. best_of / first_to: the round's winner as soon as they
-- reach winTarget wins. After the last round: least total time used (total_time), most
-- points (total_points), else most wins; a tie goes to more round wins, and a tie on those
-- too is a draw.
local function campaign_winner(st, cp, round_winner)
  local cfg = cp.config
  local rule = cfg.winCondition
  if (rule == 'best_of' or rule == 'first_to') and not is_null(round_winner)
      and cp.playerStats[seat_key(round_winner)].wins >= cfg.winTarget then
    return round_winner
  end
  if cp.currentRound < cp.maxRounds then
    return nil
  end
  local best, top, top_wins, tie = NULL, nil, nil, false
  for _, p in ipairs(st.players) do
    local k = seat_key(p.id)
    local s = cp.playerStats[k]
    local v = s.wins
    if rule == 'total_time' then
      v = -s.totalTimeUsed
    elseif rule == 'total_points' then
      v = cp.playerPoints[k]
    end
    if top == nil or v > top or (v == top and s.wins > top_wins) then
      best, top, top_wins, tie = p.id, v, s.wins, false
    elseif v == top and s.wins == top_wins then
      tie = true
    end
  end
  if tie then
    return NULL
  end
  return best
end

-- Called by lib/rules.lua eliminate() right after it finished a game and appended its
-- gameComplete: in a campaign that game was a round. The round is recorded (per player the
-- time used, initialTime - timeRemaining, penalties, elimination and points; wins, losses
-- and totals), its scoring made final, and then either the next round is set up on the same
-- table (waiting, same seats and tokens: C10) or, once the preset's rule decides, the
-- campaign is completed: campaignComplete {winner, stats, history} goes just before the
-- round's gameComplete (HEAD's order) and the game stays finished. Either way c.round_ended
-- is set: whatever the calling script still charges would be charged to the next round.
local function round_over(st, c)
  local cp = campaign_of(st)
  if not cp or cp.status ~= 'in_progress' then
    return
  end
  c.round_ended = true
  rescore(cp)
  local winner = st.winner
  local row = { round = cp.currentRound, winner = winner, players = {} }
  for _, p in ipairs(st.players) do
    local k = seat_key(p.id)
    local s, used = cp.playerStats[k], st.settings.initialTime - p.timeRemaining
    row.players[k] = { timeUsed = used, penalties = p.penalties, isEliminated = p.isEliminated, points = cp.playerPoints[k] }
    s.totalTimeUsed = s.totalTimeUsed + used
    s.penalties = s.penalties + p.penalties
    s.accumulatedPoints = cp.playerPoints[k]
    if p.id == winner then
      s.wins = s.wins + 1
    elseif not is_null(winner) then
      s.losses = s.losses + 1
    end
  end
  cp.damageTracker = {}
  cp.history[#cp.history + 1] = row
  local champion = campaign_winner(st, cp, winner)
  if champion ~= nil then
    cp.status, cp.winner = 'completed', champion
    table.insert(c.events, math.max(1, #c.events), {
      type = 'campaignComplete', data = { winner = champion, stats = cp.playerStats, history = cp.history },
    })
    return
  end
  cp.currentRound = cp.currentRound + 1
  deal_hand(cp)
  ready_table(st, round_time(cp.config, cp.currentRound), cp.config.startingLife)
end

-- reset: a game that is not a campaign starts again from its settings. A campaign restarts
-- the round it is in (its damage undone, everything recorded before kept), or, once
-- completed, starts again from round 1 for the same table.
local function restart_game(st)
  local cp = campaign_of(st)
  if not cp then
    ready_table(st, st.settings.initialTime, starting_life(st))
    return
  end
  if cp.status == 'completed' then
    cp = new_campaign(cp, st.players)
    st.campaign = cp
  else
    cp.damageTracker = {}
    rescore(cp)
  end
  ready_table(st, round_time(cp.config, cp.currentRound), cp.config.startingLife)
end
