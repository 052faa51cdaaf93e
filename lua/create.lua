--[[
  create: make a new game in status "waiting" with the caller as host.

  The id is chosen by the caller; a taken id fails with GAME_EXISTS and the caller tries
  another. The same action id retried (a lost reply) finds its own game and answers "dup",
  replacing the host token hash with the one it brings (the caller's new token).

  KEYS: the six common game keys (lib/context.lua).
  ARGV: the seven common arguments, then
    ARGV[8]  settings JSON {playerCount, initialTime, warningThresholds, penaltyType,
             penaltyTimeDeduction, name, mode, listed}, every field present and already
             normalised; name, mode ("casual" | "campaign") and listed become the state's
             own fields; bonusTime (0..300000 ms) only when the game has a turn bonus (the
             service decides: docs/protocol.md), kept in the state's settings; and
             timeoutPenaltyLives, timeoutPenaltyDrunk (0..20), timeoutGracePeriod
             (5000..300000 ms), timeoutBonusTime (0..300000 ms), all four or none: a game
             with them offers HEAD's timeout choice (lib/rules.lua time_out) and its players
             carry timeoutPending, timeoutChoiceDeadline and timeoutGraceLeft; and, with
             mode "campaign" only, campaign {preset, config}: the preset's name and config
             (service/campaign.py; bounds in lib/campaign.lua check_campaign), which set
             the round-1 clock in place of initialTime, every player's starting life, and
             the bonus when the config has one; and format, startingLife (1..9999) and
             lossRules {life, poison, commanderDamage} (booleans), all three or none (none:
             v1's game, "standard" at 20 life, life and poison losing; lib/formats.lua
             format_settings): the format's name, one of lib/formats.lua FORMATS, resolved
             by the service (service/formats.py); "twoHeadedGiant" needs 4, 6 or 8 players.
             Every player starts at startingLife (a campaign's: its preset's) with poison,
             energy, experience 0, a commander damage matrix of zeros (one [commander,
             partner] pair per seat, indexed by the source's id) and eliminatedReason null;
             and timeControl ("suddenDeath" |
             "fischer" | "bronstein" | "turnCap") with timeControlMs (1000..3600000 ms) and,
             for "turnCap", turnCapWarningMs (0..cap - 1 ms), or none of them: sudden death
             (bounds in lib/clocks.lua check_time_control), kept in the state's settings;
             and hostTimeout (lib/host.lua bounds, ms; absent: the default), kept in the
             state's settings when given; and undoWindow (0..300000 ms, optional: how long
             a player may undo their own last action, undo.lua), kept in settings
    ARGV[9]  SHA-256 hex of the host token
    ARGV[10] token lifetime in ms
  Returns: {"ok"|"dup", state JSON, events JSON}
  Errors: GAME_EXISTS, INVALID_ARGUMENT
  Publishes: the new state (version 1).
]]
--- @include "lib/context.lua"
--- @include "lib/checks.lua"
--- @include "lib/state.lua"
--- @include "lib/lobby.lua"
--- @include "lib/campaign.lua"
--- @include "lib/formats.lua"
--- @include "lib/clocks.lua"
--- @include "lib/host.lua"
--- @include "lib/commit.lua"

return run(function()
  local c = context()
  local host_hash, token_ms = ARGV[9], tonumber(ARGV[10])
  if rcall('EXISTS', c.kgame) == 1 then
    if is_dup(c) then
      rcall('HSET', c.kgame, 'host', host_hash, 'hostExp', c.now + token_ms)
      return { 'dup', rcall('HGET', c.kgame, 'state'), '[]' }
    end
    fail('GAME_EXISTS')
  end
  local s = decode_arg(ARGV[8])
  if not is_int(s.playerCount, 2, 8) or not is_int(s.initialTime, 1, MAX_TIME)
    or not check_thresholds(s.warningThresholds) or not PENALTIES[s.penaltyType]
    or not is_int(s.penaltyTimeDeduction, 0, MAX_TIME) or #host_hash ~= 64 or not token_ms
    or not is_game_name(s.name) or type(s.listed) ~= 'boolean'
    or (s.bonusTime ~= nil and not is_int(s.bonusTime, 0, MAX_BONUS))
    or not ((s.mode == 'casual' and s.campaign == nil) or (s.mode == 'campaign' and check_campaign(s.campaign)))
    or not check_time_control(s) or not check_host_timeout(s.hostTimeout) or not check_undo_settings(s) then
    fail('INVALID_ARGUMENT')
  end
  local timeouts = count_timeout_settings(s)
  local fs = format_settings(s)
  if (timeouts ~= 0 and timeouts ~= #TIMEOUT_SETTINGS) or not fs then
    fail('INVALID_ARGUMENT')
  end
  local time, life, bonus = s.initialTime, fs.startingLife, s.bonusTime
  if s.mode == 'campaign' then
    local cfg = s.campaign.config
    time, life, bonus = round_time(cfg, 1), cfg.startingLife, cfg.bonusTime or s.bonusTime
  end
  local players = {}
  for i = 1, s.playerCount do
    players[i] = {
      id = i, name = 'Player ' .. i, timeRemaining = time, penalties = 0,
      isEliminated = false, claimedBy = NULL, life = life, drunkCounter = 0, genericCounter = 0, color = NULL,
    }
    reset_counters(players[i], s.playerCount)
    if timeouts > 0 then
      players[i].timeoutPending = false
      players[i].timeoutChoiceDeadline = NULL
      players[i].timeoutGraceLeft = NULL
    end
  end
  local st = {
    id = c.gid, players = players, activePlayer = NULL, status = 'waiting', winner = NULL,
    name = s.name, mode = s.mode, listed = s.listed,
    createdAt = c.now, lastActivity = c.now, serverTime = c.now, version = 0, ownerId = c.client,
    settings = {
      initialTime = time, playerCount = s.playerCount, warningThresholds = s.warningThresholds,
      penaltyType = s.penaltyType, penaltyTimeDeduction = s.penaltyTimeDeduction, audioEnabled = true,
      bonusTime = bonus, timeoutPenaltyLives = s.timeoutPenaltyLives,
      timeoutPenaltyDrunk = s.timeoutPenaltyDrunk, timeoutGracePeriod = s.timeoutGracePeriod,
      timeoutBonusTime = s.timeoutBonusTime,
      format = fs.format, startingLife = life, lossRules = fs.lossRules,
      timeControl = s.timeControl, timeControlMs = s.timeControlMs, turnCapWarningMs = s.turnCapWarningMs,
      hostTimeout = s.hostTimeout, undoWindow = s.undoWindow,
    },
    interruptingPlayers = {},
  }
  reset_turns(st)
  -- the game's running time (lib/rules.lua settle), which an undo charges from
  st.runTime = 0
  if s.mode == 'campaign' then
    st.campaign = new_campaign(s.campaign, players)
  end
  rcall('HSET', c.kgame, 'host', host_hash, 'hostExp', c.now + token_ms)
  return commit(st, c, 'create', nil)
end)
