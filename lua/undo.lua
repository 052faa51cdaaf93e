--[[
  undo: revert the last undoable action, or the last N (lib/commit.lua UNDOABLE; a barrier
  kind cleared the stack, so nothing before it can be undone). The host may undo the last N
  (1..16); a seated player only the last one, only when it was their own seat's action, and
  only within settings.undoWindow ms of it (default 30000; 0: players may not undo).

  The game goes back to how it was just before the undone action(s): the turn, life,
  counters, eliminations, penalties, priority, targeting, timeout choices, turn and round
  counters... It keeps from the current state who holds each seat (claimedBy), names,
  colours, the host (ownerId, hostSeat, hostAwaySince), the game's name, listing and
  settings; the version is the current one + 1 (never a rewind).

  Time: the current state is settled to now first (its warnings and timeouts are published).
  Then the restored state's clocks are charged the game's running time since the snapshot
  (its runTime now minus the snapshot's), as if the undone actions had never happened: a
  reverted turn pass gives the turn back, the passer is charged for the time since the pass
  and the other player gets back the time they ran and any bonus the pass granted. A
  pending timeout choice's grace runs for the same stretch. Running or paused stays as it is
  now; an undo that reopens a finished game leaves it paused (as admin_revive does). The
  deadline index is re-indexed by commit().

  KEYS: the six common game keys (lib/context.lua).
  ARGV: the seven common arguments, then
    ARGV[8] count, 1..16
  Returns: {"ok"|"dup", state JSON, events JSON}
  Errors: GAME_NOT_FOUND, NOT_AUTHORIZED_UNDO, NOTHING_TO_UNDO, NOT_ENOUGH_TO_UNDO,
    UNDO_WINDOW_PASSED, INVALID_ARGUMENT
  Publishes: any warning or timeout that came due on the way, `undone {versions, by, host}`
    (the versions reverted, newest first; the undoer's seat or null; whether the host),
    any warning or timeout the restored clocks reach, then the new state.
]]
--- @include "lib/context.lua"
--- @include "lib/checks.lua"
--- @include "lib/state.lua"
--- @include "lib/rules.lua"
--- @include "lib/commit.lua"

local DEFAULT_UNDO_WINDOW = 30000
-- the game's own fields an undo keeps from the current state, and each player's
local KEPT = { 'ownerId', 'name', 'listed', 'settings', 'hostSeat', 'hostAwaySince' }
local KEPT_PLAYER = { 'claimedBy', 'name', 'color' }

return run(function()
  local c = context()
  local n = tonumber(ARGV[8])
  if not is_int(n, 1, UNDO_CAP) then
    fail('INVALID_ARGUMENT')
  end
  local st, raw = load(c)
  if is_dup(c) then
    return { 'dup', raw, '[]' }
  end
  local host, me = is_host(st, c.client), seat_of(st, c.client)
  if not host and (not me or n > 1) then
    fail('NOT_AUTHORIZED_UNDO')
  end
  local stack = rcall('LRANGE', c.kundo, 0, n - 1)
  if #stack == 0 then
    fail('NOTHING_TO_UNDO')
  end
  if #stack < n then
    fail('NOT_ENOUGH_TO_UNDO')
  end
  local heads, versions = {}, {}
  for i, entry in ipairs(stack) do
    local cut = string.find(entry, '\n', 1, true)
    heads[i] = cjson.decode(string.sub(entry, 1, cut - 1))
    versions[i] = heads[i].v
  end
  if not host then
    local window = st.settings.undoWindow or DEFAULT_UNDO_WINDOW
    if window == 0 or heads[1].p ~= me.id then
      fail('NOT_AUTHORIZED_UNDO')
    end
    if c.now - heads[1].at > window then
      fail('UNDO_WINDOW_PASSED')
    end
  end
  settle(st, c)
  if c.round_ended then
    -- a campaign round ended just now, on the way: nothing of the round before comes back
    fail('NOTHING_TO_UNDO')
  end
  local last = stack[n]
  local back = cjson.decode(string.sub(last, string.find(last, '\n', 1, true) + 1))
  for _, f in ipairs(KEPT) do
    back[f] = st[f]
  end
  for _, p in ipairs(back.players) do
    local now_p = player(st, p.id)
    if now_p then
      for _, f in ipairs(KEPT_PLAYER) do
        p[f] = now_p[f]
      end
    end
  end
  back.version = st.version
  c.events[#c.events + 1] = { type = 'undone', data = { versions = versions, by = me and me.id or NULL, host = host } }
  -- the restored clocks run the game's running time since the snapshot, then the game is as
  -- running or paused as it is now (a finished one reopened: paused)
  local ran = math.max(0, (st.runTime or 0) - (back.runTime or 0))
  if back.status == 'running' or back.status == 'paused' then
    back.status, back.serverTime = 'running', c.now - ran
    settle(back, c)
    if back.status == 'running' and st.status ~= 'running' then
      back.status = 'paused'
    end
  else
    back.serverTime = c.now
  end
  back.runTime = st.runTime or 0
  rcall('LTRIM', c.kundo, n, -1)
  return commit(back, c, 'undo', { versions = versions })
end)
