--[[
  roll_play_order: before the game starts, every eligible player (seated, not eliminated)
  rolls a d20 and the seats are put in the order of the rolls, highest first; that is the
  turn order from then on (passTurn follows the players array). The players who are not
  eligible follow, in the order they had. The first player becomes the active one.

  Ties: the players of a tied group roll again, all tied groups of a round together, and the
  group's re-rolled order takes the place its roll earned (HEAD put a group that tied on 20
  after a lone 5 of the same round: C19). At most 100 rounds, as HEAD; players still tied
  then keep their seat order.

  The d20 values come from the service's CSPRNG (Python's `secrets`) as a pool this script
  consumes in a fixed order: round by round, the groups in their current place, in each
  group its players in their current order. Every roll of every player is committed in the
  log entry, so the result can be checked and replayed from the log.

  Who may do it: the host (it reorders the seats; HEAD let anyone).

  KEYS: the six common game keys (lib/context.lua).
  ARGV: the seven common arguments, then
    ARGV[8] the pool: one character per roll, "A" = 1 .. "T" = 20, at least 100 per
            eligible player (enough for every round)
  Returns: {"ok"|"dup", state JSON, events JSON}
  Errors: GAME_NOT_FOUND, NOT_OWNER_PLAY_ORDER, PLAY_ORDER_NOT_WAITING,
    PLAY_ORDER_TOO_FEW_PLAYERS, INVALID_ARGUMENT
  Publishes: the event playOrderRolled {rolls: [{playerId, playerName, rolls, finalRoll,
    position}] in the new order, newOrder: [the eligible players' ids]}, then the state.
]]
--- @include "lib/context.lua"
--- @include "lib/state.lua"
--- @include "lib/rules.lua"
--- @include "lib/commit.lua"

local ROUNDS = 100

-- One round: every group of more than one player rolls; each group is replaced, in its
-- place, by its players split by roll (highest first, ties kept together in their order).
-- Returns the new list of groups and whether any tie is left.
local function roll_round(groups, pool, cursor)
  local out, tied = {}, false
  for _, group in ipairs(groups) do
    if #group == 1 then
      out[#out + 1] = group
    else
      for _, e in ipairs(group) do
        cursor = cursor + 1
        e.roll = string.byte(pool, cursor) - 64
        e.rolls[#e.rolls + 1] = e.roll
      end
      for v = 20, 1, -1 do
        local same = {}
        for _, e in ipairs(group) do
          if e.roll == v then
            same[#same + 1] = e
          end
        end
        if #same > 0 then
          out[#out + 1] = same
          tied = tied or #same > 1
        end
      end
    end
  end
  return out, tied, cursor
end

return run(function()
  local c = context()
  local pool = ARGV[8] or ''
  local st, raw = load(c)
  if is_dup(c) then
    return { 'dup', raw, '[]' }
  end
  if not is_host(st, c.client) then
    fail('NOT_OWNER_PLAY_ORDER')
  end
  settle(st, c)
  if st.status ~= 'waiting' then
    fail('PLAY_ORDER_NOT_WAITING')
  end
  local eligible, others = {}, {}
  for _, p in ipairs(st.players) do
    if not is_null(p.claimedBy) and not p.isEliminated then
      eligible[#eligible + 1] = { p = p, rolls = {} }
    else
      others[#others + 1] = p
    end
  end
  if #eligible < 2 then
    fail('PLAY_ORDER_TOO_FEW_PLAYERS')
  end
  if #pool < ROUNDS * #eligible or string.find(pool, '[^A-T]') then
    fail('INVALID_ARGUMENT')
  end
  local groups, tied, cursor = { eligible }, true, 0
  for _ = 1, ROUNDS do
    groups, tied, cursor = roll_round(groups, pool, cursor)
    if not tied then
      break
    end
  end
  local players, rolls, order = {}, {}, {}
  for _, group in ipairs(groups) do
    for _, e in ipairs(group) do
      players[#players + 1] = e.p
      order[#order + 1] = e.p.id
      rolls[#rolls + 1] = {
        playerId = e.p.id, playerName = e.p.name, rolls = e.rolls, finalRoll = e.rolls[#e.rolls],
        position = #order,
      }
    end
  end
  for _, p in ipairs(others) do
    players[#players + 1] = p
  end
  st.players = players
  st.activePlayer = order[1]
  c.events[#c.events + 1] = { type = 'playOrderRolled', data = { rolls = rolls, newOrder = order } }
  return commit(st, c, 'rollPlayOrder', { rolls = rolls, newOrder = order })
end)
