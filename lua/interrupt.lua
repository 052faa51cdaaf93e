--[[
  interrupt: the caller's player takes priority (HEAD's interrupt, B6.1). Their id is pushed
  on the interrupt stack (`interruptingPlayers`); the last entry holds priority and only
  that clock runs, the active player's stops. The clock that ran is charged up to now
  first, so the switch of clocks loses and double-charges nothing. A player may be on the
  stack more than once (HEAD allows it: an interrupt of an interrupt); the stack holds at
  most MAX_INTERRUPTS entries, so no caller can grow the state without bound.

  An eliminated player's interrupt changes nothing ("noop"), as in HEAD.

  KEYS: the six common game keys (lib/context.lua).
  ARGV: the seven common arguments.
  Returns: {"ok"|"dup"|"noop", state JSON, events JSON}
  Errors: GAME_NOT_FOUND, NOT_AUTHORIZED_INTERRUPT, GAME_NOT_RUNNING, INTERRUPT_STACK_FULL,
    INVALID_ARGUMENT
  Publishes: any warning or timeout that came due on the way, then the new state (not on
    "noop").
]]
--- @include "lib/context.lua"
--- @include "lib/state.lua"
--- @include "lib/rules.lua"
--- @include "lib/commit.lua"

-- two entries per seat of the largest table
local MAX_INTERRUPTS = 16

return run(function()
  local c = context()
  local st, raw, p = seated_caller(c, 'NOT_AUTHORIZED_INTERRUPT')
  if not st then
    return { 'dup', raw, '[]' }
  end
  settle(st, c)
  if st.status ~= 'running' then
    -- also when the running clock ran out just now: the deadline loop commits that timeout
    fail('GAME_NOT_RUNNING')
  end
  if p.isEliminated then
    return { 'noop', raw, '[]' }
  end
  local stack = interrupters(st)
  if #stack >= MAX_INTERRUPTS then
    fail('INTERRUPT_STACK_FULL')
  end
  stack[#stack + 1] = p.id
  return commit(st, c, 'interrupt', { playerId = p.id })
end)
