--[[
  toggle_target: the active player picks another player as a target, or drops one picked
  before (HEAD's toggleTarget, B6.2). The first pick enters "selecting"; the active player's
  clock keeps running meanwhile (confirm_targets starts the targets' clocks).

  The checks are HEAD's, in HEAD's order, with two of ours: while the interrupt stack holds
  anyone the active player does not hold priority (INTERRUPTS_PENDING, C17), and at most
  MAX_TARGETS (7) are picked. Unlike HEAD (C18) the target is checked before anything
  changes: a refused pick leaves the game as it was, "none" included. A target is another
  player still in the game; whether anyone holds the seat does not matter (as in HEAD).

  KEYS: the six common game keys (lib/context.lua).
  ARGV: the seven common arguments, then
    ARGV[8] target player id
  Returns: {"ok"|"dup", state JSON, events JSON}
  Errors: GAME_NOT_FOUND, NOT_AUTHORIZED_TARGET, NOT_ACTIVE_SELECT, GAME_NOT_RUNNING,
    INTERRUPTS_PENDING, TARGETS_LOCKED, INVALID_TARGET, TOO_MANY_TARGETS, INVALID_ARGUMENT
  Publishes: any warning or timeout that came due on the way, then targetingUpdated
    {targetingState, targetedPlayers, awaitingPriority, originalActivePlayer, activePlayer},
    then the new state.
]]
--- @include "lib/context.lua"
--- @include "lib/state.lua"
--- @include "lib/rules.lua"
--- @include "lib/targeting.lua"
--- @include "lib/commit.lua"

return run(function()
  local c = context()
  local target = tonumber(ARGV[8])
  if not target then
    fail('INVALID_ARGUMENT')
  end
  local st, raw, me = seated_caller(c, 'NOT_AUTHORIZED_TARGET')
  if not st then
    return { 'dup', raw, '[]' }
  end
  settle(st, c)
  if st.activePlayer ~= me.id then
    fail('NOT_ACTIVE_SELECT')
  end
  if st.status ~= 'running' then
    -- also when the running clock ran out just now: the deadline loop commits that timeout
    fail('GAME_NOT_RUNNING')
  end
  if #interrupters(st) > 0 then
    fail('INTERRUPTS_PENDING')
  end
  if targeting(st).targetingState == 'resolving' then
    fail('TARGETS_LOCKED')
  end
  local t = player(st, target)
  if not t or t.id == me.id or t.isEliminated then
    fail('INVALID_TARGET')
  end
  local picked = st.targetedPlayers
  local at = index_of(picked, target)
  if at then
    table.remove(picked, at)
  elseif #picked >= MAX_TARGETS then
    fail('TOO_MANY_TARGETS')
  else
    picked[#picked + 1] = target
  end
  st.targetingState = 'selecting'
  c.events[#c.events + 1] = {
    type = 'targetingUpdated',
    data = {
      targetingState = st.targetingState, targetedPlayers = copy_ids(picked),
      awaitingPriority = copy_ids(st.awaitingPriority), originalActivePlayer = st.originalActivePlayer,
      activePlayer = st.activePlayer,
    },
  }
  return commit(st, c, 'toggleTarget', { playerId = target, selected = not at })
end)
