--[[
  commander_damage: one player takes (or, with a negative amount, gives back) damage from
  another player's commander or its partner. The amount is added to that cell of the
  player's commander damage matrix (one [commander, partner] pair per seat, indexed by the
  source's id) and, as the real rule has it, taken from the player's life (the team's in
  two-headed giant). A player who has lost by the game's loss rules (21 from one cell, life
  at or below 0, each when on: lib/formats.lua loss_reason) is eliminated in the same step
  with that reason (lib/rules.lua check_loss), except in a finished game. A cell is never
  below 0 or above 999 and a life never leaves -999..9999: such a change is refused whole
  (COUNTER_OUT_OF_RANGE). In a campaign a loss of life while a round runs is damage dealt by
  the acting player, as updatePlayer's (lib/campaign.lua note_player).

  Who may: as updatePlayer, the host, the damaged player's holder, and, while the game is
  waiting, anyone in the game for a seat nobody holds.

  KEYS: the six common game keys (lib/context.lua).
  ARGV: the seven common arguments, then
    ARGV[8]  the damaged player's id
    ARGV[9]  the source's player id (another player of the game)
    ARGV[10] "1": the source's partner commander, "0": its commander
    ARGV[11] the amount, a non-zero integer -99..99 (a delta)
  Returns: {"ok"|"dup", state JSON, events JSON}
  Errors: GAME_NOT_FOUND, NOT_AUTHORIZED_MODIFY, PLAYER_NOT_FOUND, INVALID_COMMANDER_SOURCE,
    COUNTER_OUT_OF_RANGE, INVALID_ARGUMENT
  Publishes: gameComplete when the damage decides the game (in a campaign: the round, with
    campaignComplete just before it when that decides the campaign), then the new state.
]]
--- @include "lib/context.lua"
--- @include "lib/checks.lua"
--- @include "lib/state.lua"
--- @include "lib/rules.lua"
--- @include "lib/campaign.lua"
--- @include "lib/formats.lua"
--- @include "lib/commit.lua"

return run(function()
  local c = context()
  local pid, sid, amount = tonumber(ARGV[8]), tonumber(ARGV[9]), tonumber(ARGV[11])
  local partner = ARGV[10]
  if not pid or not sid or (partner ~= '0' and partner ~= '1') or not is_int(amount, -99, 99) or amount == 0 then
    fail('INVALID_ARGUMENT')
  end
  local st, raw, p = modifiable_player(c, pid)
  if not st then
    return { 'dup', raw, '[]' }
  end
  if sid == pid or not player(st, sid) then
    fail('INVALID_COMMANDER_SOURCE')
  end
  -- settled first: a campaign round that a timeout ends on the way resets every counter
  settle(st, c)
  local cell = partner == '1' and 2 or 1
  local row = cmd_matrix(st, p)[sid]
  local dealt, life = row[cell] + amount, p.life - amount
  if dealt < 0 or dealt > 999 or not is_life(life) then
    fail('COUNTER_OUT_OF_RANGE')
  end
  local life_before = p.life
  row[cell] = dealt
  set_life(st, p, life)
  note_player(st, p, life_before)
  check_loss(st, p, c)
  return commit(st, c, 'commanderDamage', { playerId = pid, sourceId = sid, partner = partner == '1', amount = amount })
end)
