--[[
  lib/formats.lua: a game's format (settings.format, startingLife, lossRules): the checks of
  the format settings create.lua and update_settings.lua are handed, the counters a player
  carries (poison, energy, experience, the commander damage matrix), two-headed giant's
  teams and their shared life and poison, and whether a player has lost by the game's loss
  rules. The presets themselves (each format's starting life and default loss rules) are the
  service's (service/formats.py): a create is handed the resolved settings, checked here.
  Nothing here calls Redis or eliminates: lib/rules.lua check_loss applies a loss.

  Provides: START_LIFE, FORMATS, LOSS_RULES, COMMANDER_LIMIT, is_life, check_loss_rules, format_settings, format_update_valid, check_format_update, is_teams, teammate, side_of, alive_sides, loss_rules, poison_limit, zero_matrix, cmd_matrix, reset_counters, set_life, set_poison, update_format, loss_reason, below_limits
]]
--- @include "lib/context.lua"
--- @include "lib/checks.lua"
--- @include "lib/state.lua"

-- a game's starting life when its settings name none (v1's and HEAD's 20)
local START_LIFE = 20
-- each format's fixed rules: the poison that loses (10; 15 in two-headed giant, as the real
-- rules have it) and whether the players play in teams of two (seats 1+2, 3+4, ...)
local FORMATS = {
  standard = { poison = 10 },
  commander = { poison = 10 },
  twoHeadedGiant = { poison = 15, teams = true },
  brawl = { poison = 10 },
  custom = { poison = 10 },
}
local LOSS_RULES = { life = true, poison = true, commanderDamage = true }
-- 21 or more damage from one commander loses
local COMMANDER_LIMIT = 21

local function is_life(v)
  return is_int(v, -999, 9999)
end

-- A lossRules object: only the three rule names, each a boolean; all three when `full`.
local function check_loss_rules(lr, full)
  if type(lr) ~= 'table' then
    return false
  end
  local n = 0
  for k, v in pairs(lr) do
    if not LOSS_RULES[k] or type(v) ~= 'boolean' then
      return false
    end
    n = n + 1
  end
  return n > 0 and (not full or n == 3)
end

-- The format settings of a create's settings `s` (all three or none: none is v1's game,
-- standard at 20 life, life and poison losing), or nil when one is out of bounds. Two-headed
-- giant needs an even table of 4 to 8.
local function format_settings(s)
  if s.format == nil and s.startingLife == nil and s.lossRules == nil then
    return { format = 'standard', startingLife = START_LIFE, lossRules = { life = true, poison = true, commanderDamage = false } }
  end
  local f = FORMATS[s.format]
  if not f or not is_int(s.startingLife, 1, 9999) or not check_loss_rules(s.lossRules, true)
      or (f.teams and not (s.playerCount == 4 or s.playerCount == 6 or s.playerCount == 8)) then
    return nil
  end
  return { format = s.format, startingLife = s.startingLife, lossRules = s.lossRules }
end

-- updateSettings' format fields within bounds (each optional; lossRules may name one rule).
local function format_update_valid(u)
  return (u.format == nil or FORMATS[u.format] ~= nil) and (u.startingLife == nil or is_int(u.startingLife, 1, 9999))
    and (u.lossRules == nil or check_loss_rules(u.lossRules, false))
end

-- Whether updateSettings names a format field, refused (before any write) in a campaign,
-- whose preset sets the life (FORMAT_CAMPAIGN), once the game has started (FORMAT_LOCKED), and
-- for two-headed giant at a table that is not 4, 6 or 8 (TEAMS_NEED_EVEN_PLAYERS).
local function check_format_update(st, u)
  if u.format == nil and u.startingLife == nil and u.lossRules == nil then
    return false
  end
  if st.mode == 'campaign' then
    fail('FORMAT_CAMPAIGN')
  end
  if st.status ~= 'waiting' then
    fail('FORMAT_LOCKED')
  end
  local n = #st.players
  if u.format ~= nil and FORMATS[u.format].teams and not (n == 4 or n == 6 or n == 8) then
    fail('TEAMS_NEED_EVEN_PLAYERS')
  end
  return true
end

local function is_teams(st)
  local f = FORMATS[st.settings.format]
  return f ~= nil and f.teams == true
end

-- A two-headed giant player's teammate (seats 1+2, 3+4, ...: by id, whatever the turn order);
-- nil in any other format.
local function teammate(st, p)
  if not is_teams(st) then
    return nil
  end
  return player(st, p.id % 2 == 1 and p.id + 1 or p.id - 1)
end

-- Who wins and loses together: the team in two-headed giant, else the player.
local function side_of(st, p)
  if is_teams(st) then
    return math.floor((p.id + 1) / 2)
  end
  return p.id
end

-- How many sides (players, or teams) are still in the game.
local function alive_sides(st)
  local seen, n = {}, 0
  for _, p in ipairs(st.players) do
    local s = side_of(st, p)
    if not p.isEliminated and not seen[s] then
      seen[s], n = true, n + 1
    end
  end
  return n
end

-- The game's loss rules; a game stored before they existed loses by life (and poison, which
-- it had no way to count).
local function loss_rules(st)
  local lr = st.settings.lossRules
  if type(lr) ~= 'table' then
    return { life = true, poison = true, commanderDamage = false }
  end
  return lr
end

local function poison_limit(st)
  local f = FORMATS[st.settings.format] or FORMATS.standard
  return f.poison
end

-- n [commander, partner] pairs of zeros: one per seat, indexed by the source's player id.
local function zero_matrix(n)
  local m = {}
  for i = 1, n do
    m[i] = { 0, 0 }
  end
  return m
end

-- The player's commander damage matrix, created (all zero) for a player stored without one.
local function cmd_matrix(st, p)
  if type(p.commanderDamage) ~= 'table' or #p.commanderDamage ~= #st.players then
    p.commanderDamage = zero_matrix(#st.players)
  end
  return p.commanderDamage
end

-- Every counter of a fresh game (create, reset, a campaign's next round) and no reason out.
-- `n`: the number of seats.
local function reset_counters(p, n)
  p.poison, p.energy, p.experience = 0, 0, 0
  p.commanderDamage = zero_matrix(n)
  p.eliminatedReason = NULL
end

-- Life and poison are the team's in two-headed giant: a change to one writes both.
local function set_life(st, p, v)
  p.life = v
  local mate = teammate(st, p)
  if mate then
    mate.life = v
  end
end

local function set_poison(st, p, v)
  p.poison = v
  local mate = teammate(st, p)
  if mate then
    mate.poison = v
  end
end

-- updateSettings' format fields, already checked (the game waiting, not a campaign): a new
-- format or starting life puts every player at that life, and a new format clears poison (so
-- teammates share theirs); loss rules not named keep their value.
local function update_format(st, u)
  local s = st.settings
  s.format = u.format or s.format or 'standard'
  s.startingLife = u.startingLife or s.startingLife or START_LIFE
  local rules = {}
  for k, v in pairs(loss_rules(st)) do
    rules[k] = v
  end
  for k, v in pairs(u.lossRules or {}) do
    rules[k] = v
  end
  s.lossRules = rules
  if u.format ~= nil or u.startingLife ~= nil then
    for _, p in ipairs(st.players) do
      p.life = s.startingLife
      if u.format ~= nil then
        p.poison = 0
      end
    end
  end
end

-- Why the player has lost by the game's loss rules, or nil: 21 or more damage from one
-- commander (a commander or a partner: one cell), poison at the format's limit, life at or
-- below 0, the most specific first when one change crosses two.
local function loss_reason(st, p)
  local rules = loss_rules(st)
  if rules.commanderDamage and type(p.commanderDamage) == 'table' then
    for _, pair in ipairs(p.commanderDamage) do
      if pair[1] >= COMMANDER_LIMIT or pair[2] >= COMMANDER_LIMIT then
        return 'commanderDamage'
      end
    end
  end
  if rules.poison and (p.poison or 0) >= poison_limit(st) then
    return 'poison'
  end
  if rules.life and p.life <= 0 then
    return 'life'
  end
  return nil
end

-- A revived player comes back just short of each loss that is on: poison one below the
-- limit, each commander's damage at 20 (life: admin_revive.lua), so the next change to an
-- unrelated counter does not knock them out again.
local function below_limits(st, p)
  local rules = loss_rules(st)
  local limit = poison_limit(st)
  if rules.poison and (p.poison or 0) >= limit then
    set_poison(st, p, limit - 1)
  end
  if rules.commanderDamage and type(p.commanderDamage) == 'table' then
    for _, pair in ipairs(p.commanderDamage) do
      pair[1] = math.min(pair[1], COMMANDER_LIMIT - 1)
      pair[2] = math.min(pair[2], COMMANDER_LIMIT - 1)
    end
  end
end
