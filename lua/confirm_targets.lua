--[[
  confirm_targets: the active player sends the picked targets their priority (HEAD's
  confirmTargets, B6.2): "selecting" becomes "resolving", originalActivePlayer is the
  active player (who stays active) and every target is awaiting. From now on every awaiting
  target's clock runs at once and the original player's stands (lib/state.lua running_ids);
  the active player's clock is charged up to now first, so the switch of clocks loses and
  double-charges nothing.

  HEAD's checks in HEAD's order (the active player, selecting, at least one target), and
  ours: while the interrupt stack holds anyone the active player does not hold priority
  (INTERRUPTS_PENDING, C17). As in HEAD the game may be paused: the targets' clocks then
  start when it resumes.

  KEYS: the six common game keys (lib/context.lua).
  ARGV: the seven common arguments.
  Returns: {"ok"|"dup", state JSON, events JSON}
  Errors: GAME_NOT_FOUND, NOT_ACTIVE_CONFIRM, INTERRUPTS_PENDING, NOT_SELECTING_TARGETS,
    NO_TARGETS_SELECTED, INVALID_ARGUMENT
  Publishes: any warning or timeout that came due on the way, then targetingStarted
    {originalPlayer, targets, awaitingPriority, activePlayer}, then the new state.
]]
--- @include "lib/context.lua"
--- @include "lib/state.lua"
--- @include "lib/rules.lua"
--- @include "lib/targeting.lua"
--- @include "lib/commit.lua"

return run(function()
  local c = context()
  local st, raw = load(c)
  if is_dup(c) then
    return { 'dup', raw, '[]' }
  end
  settle(st, c)
  local me = seat_of(st, c.client)
  if not me or st.activePlayer ~= me.id then
    fail('NOT_ACTIVE_CONFIRM')
  end
  if #interrupters(st) > 0 then
    fail('INTERRUPTS_PENDING')
  end
  if targeting(st).targetingState ~= 'selecting' then
    fail('NOT_SELECTING_TARGETS')
  end
  if #st.targetedPlayers == 0 then
    fail('NO_TARGETS_SELECTED')
  end
  st.targetingState = 'resolving'
  st.originalActivePlayer = st.activePlayer
  st.awaitingPriority = copy_ids(st.targetedPlayers)
  c.events[#c.events + 1] = {
    type = 'targetingStarted',
    data = {
      originalPlayer = st.originalActivePlayer, targets = copy_ids(st.targetedPlayers),
      awaitingPriority = copy_ids(st.awaitingPriority), activePlayer = st.activePlayer,
    },
  }
  return commit(st, c, 'confirmTargets', { targets = copy_ids(st.targetedPlayers) })
end)
