--[[
  pass_priority: the caller's player leaves the interrupt stack (HEAD's passPriority,
  B6.1): their last entry is removed, and priority goes back to the entry before, finally
  to the active player. The clock that ran is charged up to now first. As in HEAD a player
  lower in the stack may also withdraw (their clock was not running, so nothing else
  changes); only the turn itself waits for the stack (switch.lua, PRIORITY_PENDING).

  Allowed in any status: a paused game's stack can be unwound before it resumes.

  KEYS: the six common game keys (lib/context.lua).
  ARGV: the seven common arguments.
  Returns: {"ok"|"dup", state JSON, events JSON}
  Errors: GAME_NOT_FOUND, NOT_AUTHORIZED_PRIORITY, NOT_IN_INTERRUPT_QUEUE, INVALID_ARGUMENT
  Publishes: any warning or timeout that came due on the way, then the new state.
]]
--- @include "lib/context.lua"
--- @include "lib/state.lua"
--- @include "lib/rules.lua"
--- @include "lib/commit.lua"

return run(function()
  local c = context()
  local st, raw, p = seated_caller(c, 'NOT_AUTHORIZED_PRIORITY')
  if not st then
    return { 'dup', raw, '[]' }
  end
  settle(st, c)
  local stack = interrupters(st)
  local at = nil
  for i = #stack, 1, -1 do
    if stack[i] == p.id then
      at = i
      break
    end
  end
  if not at then
    fail('NOT_IN_INTERRUPT_QUEUE')
  end
  table.remove(stack, at)
  return commit(st, c, 'passPriority', { playerId = p.id })
end)
