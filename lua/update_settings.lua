--[[
  update_settings: change the warning thresholds, the penalty rules, the turn bonus, the
  timeout choice's settings and/or the time control of a game. The player count and initial
  time are fixed once created.

  The time control changes only while the game is waiting (TIME_CONTROL_LOCKED: a turn under
  way keeps the rules it began with). An update naming timeControl replaces the control
  whole; one naming only timeControlMs or turnCapWarningMs changes the amounts of the
  game's control, and the result must hold together (INVALID_TIME_CONTROL: an amount for
  sudden death, a warning for a control other than the cap, a warning not shorter than the
  cap; lib/clocks.lua merge_time_control).

  The timeout choice's settings change only a game that has it (a HEAD client's create);
  a v1 game keeps v1's timeout and refuses them (TIMEOUT_CHOICE_OFF). A new grace period
  applies to the next timeout: a choice already pending keeps the grace it has left.

  The format settings (format, startingLife, lossRules) change only while the game is
  waiting (FORMAT_LOCKED) and never in a campaign, whose preset sets the life
  (FORMAT_CAMPAIGN); two-headed giant needs 4, 6 or 8 players (TEAMS_NEED_EVEN_PLAYERS). A
  new format or starting life puts every player at that life, and a new format clears
  poison (lib/formats.lua update_format); loss rules not named keep their value.

  KEYS: the six common game keys (lib/context.lua).
  ARGV: the seven common arguments, then
    ARGV[8] JSON object with any of warningThresholds (1-10 integers, 1..86400000 ms),
            penaltyType ("warning" | "time_deduction" | "game_loss"),
            penaltyTimeDeduction (0..86400000 ms), bonusTime (0..300000 ms: the turn
            bonus, B6.4; 0 turns it off), timeoutPenaltyLives and timeoutPenaltyDrunk
            (0..20), timeoutGracePeriod (5000..300000 ms), timeoutBonusTime (0..300000 ms),
            format (a name of lib/formats.lua FORMATS), startingLife (1..9999), lossRules
            (an object of any of life, poison, commanderDamage: booleans); the service
            sends a format with its starting life and all three loss rules resolved;
            timeControl, timeControlMs, turnCapWarningMs (as create's);
            hostTimeout (10000..3600000 ms: lib/host.lua);
            undoWindow (0..300000 ms: how long a player may undo their own action, undo.lua)
  Returns: {"ok"|"dup"|"noop", state JSON, events JSON}; "noop" for an empty update.
  Errors: GAME_NOT_FOUND, NOT_OWNER_SETTINGS, TIMEOUT_CHOICE_OFF, FORMAT_CAMPAIGN, FORMAT_LOCKED,
    TEAMS_NEED_EVEN_PLAYERS, TIME_CONTROL_LOCKED, INVALID_TIME_CONTROL, INVALID_ARGUMENT
  Publishes: the new state (not on "noop").
]]
--- @include "lib/context.lua"
--- @include "lib/checks.lua"
--- @include "lib/state.lua"
--- @include "lib/rules.lua"
--- @include "lib/formats.lua"
--- @include "lib/clocks.lua"
--- @include "lib/host.lua"
--- @include "lib/commit.lua"

return run(function()
  local c = context()
  local u = decode_arg(ARGV[8])
  local timeouts = count_timeout_settings(u)
  if (u.warningThresholds ~= nil and not check_thresholds(u.warningThresholds))
      or (u.penaltyType ~= nil and not PENALTIES[u.penaltyType])
      or (u.penaltyTimeDeduction ~= nil and not is_int(u.penaltyTimeDeduction, 0, MAX_TIME))
      or (u.bonusTime ~= nil and not is_int(u.bonusTime, 0, MAX_BONUS)) or not timeouts
      or not format_update_valid(u)
      or not check_host_timeout(u.hostTimeout) or not check_undo_settings(u) then
    fail('INVALID_ARGUMENT')
  end
  local st, raw = load(c)
  if is_dup(c) then
    return { 'dup', raw, '[]' }
  end
  if not is_host(st, c.client) then
    fail('NOT_OWNER_SETTINGS')
  end
  if timeouts > 0 and not has_timeout_choice(st) then
    fail('TIMEOUT_CHOICE_OFF')
  end
  local formats = check_format_update(st, u)
  local tc = merge_time_control(st.settings, u)
  if tc ~= nil and st.status ~= 'waiting' then
    fail('TIME_CONTROL_LOCKED')
  elseif tc == false then
    fail('INVALID_TIME_CONTROL')
  end
  if u.warningThresholds == nil and u.penaltyType == nil and u.penaltyTimeDeduction == nil
      and u.bonusTime == nil and timeouts == 0 and not formats and tc == nil
      and u.hostTimeout == nil and u.undoWindow == nil then
    return { 'noop', raw, '[]' }
  end
  settle(st, c)
  local s = st.settings
  s.warningThresholds = u.warningThresholds or s.warningThresholds
  s.penaltyType = u.penaltyType or s.penaltyType
  s.penaltyTimeDeduction = u.penaltyTimeDeduction or s.penaltyTimeDeduction
  s.bonusTime = u.bonusTime or s.bonusTime
  s.hostTimeout = u.hostTimeout or s.hostTimeout
  s.undoWindow = u.undoWindow or s.undoWindow
  for _, t in ipairs(TIMEOUT_SETTINGS) do
    s[t[1]] = u[t[1]] or s[t[1]]
  end
  if formats then
    update_format(st, u)
  end
  if tc then
    s.timeControl, s.timeControlMs, s.turnCapWarningMs = tc.timeControl, tc.timeControlMs, tc.turnCapWarningMs
  end
  return commit(st, c, 'updateSettings', nil)
end)
