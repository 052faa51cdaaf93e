--[[
  switch: make another player active. The running clock is charged up to now first, so
  no time leaks; switching to the active player changes nothing. With target "next" this
  is pass-turn: the next player in turn order who is still in the game.

  Who may switch: anyone in the game while waiting; afterwards the host or whoever holds
  the active player's seat. While the interrupt stack holds anyone the turn is theirs to
  resolve first: the active player's switch is refused (PRIORITY_PENDING, HEAD's C17);
  the host may still switch (an override to repair a table), and the stack stays.

  Pass-turn ("next") is a move of the game in play: only while running (HEAD let it through
  while waiting or paused, C17), by the host or the active player's holder, refused with
  HEAD's own string (NOT_AUTHORIZED_PASS) otherwise.

  Targeting (HEAD's parallel priority, B6.2) holds the turn too. While targets respond
  ("resolving") the active player's switch is refused (TARGETS_PENDING: HEAD let it through,
  and completion then gave the turn back over it, C17); the host's switch is a repair that
  ends targeting. A selection still being picked belongs to the turn: a turn pass ends it.
  Either way `targetingCanceled {activePlayer}` names the new active player, before the
  state. A switch to the active player changes nothing, targeting included.

  A real turn pass while running (to another player) adds settings.bonusTime to the new
  active player's clock, capped at 24 h (B6.4); never a switch to oneself, nor while
  waiting or paused (HEAD's C15). The log entry then records the `bonus` granted. In a
  Fischer game the player who passed gets the increment (timeControlMs, capped at 24 h),
  recorded as `increment`. Once the game has begun a switch to another player begins a new
  turn (lib/clocks.lua begin_turn: turn, round, turnTime).

  The turn may move on while the request travels (the turn cap passed it, or the active
  player's timeout choice ran out): a switch by the previous active player's holder is then
  refused (TURN_MOVED_ON), so nobody passes a turn they no longer hold.

  KEYS: the six common game keys (lib/context.lua).
  ARGV: the seven common arguments, then
    ARGV[8] target player id, or "next"
  Returns: {"ok"|"dup"|"noop", state JSON, events JSON}
  Errors: GAME_NOT_FOUND, GAME_NOT_RUNNING, NOT_AUTHORIZED_PASS, NOT_AUTHORIZED_SWITCH,
    GAME_FINISHED, TURN_MOVED_ON, PRIORITY_PENDING, TARGETS_PENDING, PLAYER_NOT_FOUND,
    PLAYER_ELIMINATED, INVALID_ARGUMENT
  Publishes: any warning, timeout or turn cap event that came due on the way,
    targetingCanceled when the
    switch ends targeting, then the new state (not on "noop").
]]
--- @include "lib/context.lua"
--- @include "lib/state.lua"
--- @include "lib/rules.lua"
--- @include "lib/commit.lua"

return run(function()
  local c = context()
  local st, raw = load(c)
  if is_dup(c) then
    return { 'dup', raw, '[]' }
  end
  local pass = ARGV[8] == 'next'
  if pass and st.status ~= 'running' and st.status ~= 'finished' then
    fail('GAME_NOT_RUNNING')
  end
  if st.status ~= 'waiting' and not is_host(st, c.client) then
    local active = player(st, st.activePlayer)
    if (not active or active.claimedBy ~= c.client) and pass then
      fail('NOT_AUTHORIZED_PASS')
    elseif not active or active.claimedBy ~= c.client then
      fail('NOT_AUTHORIZED_SWITCH')
    end
  end
  local was = st.activePlayer
  settle(st, c)
  if st.status == 'finished' then
    fail('GAME_FINISHED')
  end
  if st.activePlayer ~= was and st.status ~= 'waiting' and not is_host(st, c.client) then
    fail('TURN_MOVED_ON')
  end
  if #interrupters(st) > 0 and not is_host(st, c.client) then
    fail('PRIORITY_PENDING')
  end
  if targeting(st).targetingState == 'resolving' and not is_host(st, c.client) then
    fail('TARGETS_PENDING')
  end
  local target
  if pass then
    target = next_alive(st, is_null(st.activePlayer) and 0 or st.activePlayer)
  else
    target = tonumber(ARGV[8])
    if not target then
      fail('INVALID_ARGUMENT')
    end
  end
  local p = player(st, target)
  if not p then
    fail('PLAYER_NOT_FOUND')
  end
  if p.isEliminated then
    fail('PLAYER_ELIMINATED')
  end
  if #c.events == 0 and st.activePlayer == target then
    return { 'noop', raw, '[]' }
  end
  local detail = { playerId = target }
  if st.activePlayer ~= target then
    local bonus, increment = hand_turn(st, c, p)
    detail.bonus = bonus > 0 and bonus or nil
    detail.increment = increment > 0 and increment or nil
  end
  return commit(st, c, 'switch', detail)
end)
