--[[
  pass_target_priority: a target responds (HEAD's passTargetPriority, B6.2): the caller's
  player leaves awaitingPriority and their clock stops; the other targets' clocks run on.
  When the last one passes, targeting completes: the turn is the original player's again
  and that clock resumes. The clocks that ran are charged up to now first.

  HEAD's checks in HEAD's order. Allowed while interrupts are pending (the stack's top runs
  meanwhile; a target may still give up its priority) and in any status, as passPriority.

  KEYS: the six common game keys (lib/context.lua).
  ARGV: the seven common arguments.
  Returns: {"ok"|"dup", state JSON, events JSON}
  Errors: GAME_NOT_FOUND, NOT_RESOLVING_TARGETS, NOT_AUTHORIZED_PRIORITY, NOT_AWAITING_PRIORITY,
    INVALID_ARGUMENT
  Publishes: any warning or timeout that came due on the way, then priorityPassed {passedBy,
    awaitingPriority, activePlayer}, or targetingComplete {activePlayer} for the last target,
    then the new state.
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
  if targeting(st).targetingState ~= 'resolving' then
    fail('NOT_RESOLVING_TARGETS')
  end
  local me = seat_of(st, c.client)
  if not me then
    fail('NOT_AUTHORIZED_PRIORITY')
  end
  if not index_of(st.awaitingPriority, me.id) then
    fail('NOT_AWAITING_PRIORITY')
  end
  remove_id(st.awaitingPriority, me.id)
  local last = #st.awaitingPriority == 0
  if last then
    complete_targeting(st, c)
  else
    c.events[#c.events + 1] = {
      type = 'priorityPassed',
      data = { passedBy = me.id, awaitingPriority = copy_ids(st.awaitingPriority), activePlayer = st.activePlayer },
    }
  end
  return commit(st, c, 'passTargetPriority', { playerId = me.id, complete = last })
end)
