--[[
  timeout_choice: the caller's player answers their pending timeout choice (HEAD's
  timeoutChoice, B4 resolveTimeoutChoice). The choices:
    loseLives  life - timeoutPenaltyLives (never below -999; the team's in two-headed
               giant), the clock restarts from timeoutBonusTime; a player who has lost by
               the game's loss rules (life at or below 0, when on) is eliminated
    gainDrunk  drunkCounter + timeoutPenaltyDrunk (never above 999; HEAD did not clamp,
               C20), the clock restarts from timeoutBonusTime
    die        the player is eliminated (eliminatedReason "timeout")
  An elimination is lib/rules.lua eliminate's: the turn passes on, the last player standing
  wins. The running clocks are settled first, so a grace that ran out before this arrived
  has already resolved as "die" (NO_TIMEOUT_PENDING; the deadline loop commits it). With a
  timeoutBonusTime of 0 a clock that runs is at zero again at once: it times out again in
  the same step (a new penalty and a new choice), as HEAD's next tick did.

  Allowed while paused too (the grace stands still, the choice need not); not once the game
  is finished, where nothing is decided any more.

  KEYS: the six common game keys (lib/context.lua).
  ARGV: the seven common arguments, then
    ARGV[8] the choice: "loseLives" | "gainDrunk" | "die"
  Returns: {"ok"|"dup", state JSON, events JSON}
  Errors: GAME_NOT_FOUND, NOT_AUTHORIZED_TIMEOUT_CHOICE, NO_TIMEOUT_PENDING, GAME_FINISHED,
    INVALID_ARGUMENT
  Publishes: any event that came due on the way, gameComplete when the choice decides the
    game, timeoutChoice when the clock times out again at once, then the new state.
]]
--- @include "lib/context.lua"
--- @include "lib/state.lua"
--- @include "lib/rules.lua"
--- @include "lib/campaign.lua"
--- @include "lib/formats.lua"
--- @include "lib/commit.lua"

local CHOICES = { loseLives = true, gainDrunk = true, die = true }
-- HEAD's MIN_LIFE and MAX_COUNTER
local MIN_LIFE, MAX_COUNTER = -999, 999

-- Whether the player's clock runs right now.
local function runs(st, p)
  if st.status ~= 'running' then
    return false
  end
  for _, q in ipairs(running_ids(st)) do
    if q == p then
      return true
    end
  end
  return false
end

return run(function()
  local c = context()
  local choice = ARGV[8]
  if not CHOICES[choice] then
    fail('INVALID_ARGUMENT')
  end
  local st, raw, p = seated_caller(c, 'NOT_AUTHORIZED_TIMEOUT_CHOICE')
  if not st then
    return { 'dup', raw, '[]' }
  end
  settle(st, c)
  if p.timeoutPending ~= true then
    fail('NO_TIMEOUT_PENDING')
  end
  if st.status == 'finished' then
    fail('GAME_FINISHED')
  end
  local s = st.settings
  clear_choice(p)
  if choice == 'die' then
    eliminate(st, p, c, 'timeout')
  else
    if choice == 'loseLives' then
      local before = p.life
      set_life(st, p, math.max(MIN_LIFE, p.life - s.timeoutPenaltyLives))
      -- a life lost is damage to a campaign, credited as HEAD's hook did (lib/campaign.lua)
      note_player(st, p, before)
    else
      p.drunkCounter = math.min(MAX_COUNTER, p.drunkCounter + s.timeoutPenaltyDrunk)
    end
    p.timeRemaining = s.timeoutBonusTime
    if choice == 'loseLives' and loss_reason(st, p) then
      check_loss(st, p, c)
    elseif p.timeRemaining == 0 and runs(st, p) then
      time_out(st, p, c, 0)
    end
  end
  return commit(st, c, 'timeoutChoice', { playerId = p.id, choice = choice })
end)
