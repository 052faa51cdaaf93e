--[[
  update_player: set any of a player's name, remaining time, life, counters and colour.
  Text is stored raw (escaping is the renderer's job). Setting the active player's time
  while the clock runs starts its count from the new value. In two-headed giant life and
  poison are the team's: either is written to both teammates. A player who has lost by the
  game's loss rules (lib/formats.lua loss_reason: life at or below 0, poison at the format's
  limit, 21 commander damage from one source, each when on) is eliminated in the same step,
  with that reason (lib/rules.lua check_loss, eliminate: the turn passes on, the last player
  or team standing wins), except in a finished game, where nothing is decided any more. In a campaign the player's name is remembered, and a loss of life while a round runs
  is damage dealt by the acting player (lib/campaign.lua note_player), scored before any
  elimination ends the round.

  Who may: the host, the player's holder, and, while the game is waiting, anyone in the
  game for a seat nobody holds (HEAD's canModifyPlayer).

  KEYS: the six common game keys (lib/context.lua).
  ARGV: the seven common arguments, then
    ARGV[8] player id
    ARGV[9] JSON object with any of name (1-50 characters), time (0-86400000 ms),
            life (-999..9999), drunkCounter and genericCounter (0..999), poison (0..99),
            energy and experience (0..999), color (a palette id of lib/checks.lua COLORS,
            or null to clear)
  Returns: {"ok"|"dup"|"noop", state JSON, events JSON}; "noop" for an empty update.
  Errors: GAME_NOT_FOUND, NOT_AUTHORIZED_MODIFY, PLAYER_NOT_FOUND, INVALID_ARGUMENT
  Publishes: gameComplete when the update decides the game (in a campaign: the round, with
    campaignComplete just before it when that decides the campaign), then the new state (not
    on "noop").
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
  local pid = tonumber(ARGV[8])
  local u = decode_arg(ARGV[9])
  local st, raw, p = modifiable_player(c, pid)
  if not st then
    return { 'dup', raw, '[]' }
  end
  if u.name ~= nil and (type(u.name) ~= 'string' or #u.name > 200 or utf8_len(u.name) < 1
      or utf8_len(u.name) > 50) then
    fail('INVALID_ARGUMENT')
  end
  if (u.time ~= nil and not is_int(u.time, 0, MAX_TIME)) or (u.life ~= nil and not is_life(u.life))
      or (u.poison ~= nil and not is_int(u.poison, 0, 99))
      or (u.energy ~= nil and not is_int(u.energy, 0, 999))
      or (u.experience ~= nil and not is_int(u.experience, 0, 999))
      or (u.drunkCounter ~= nil and not is_int(u.drunkCounter, 0, 999))
      or (u.genericCounter ~= nil and not is_int(u.genericCounter, 0, 999))
      or (u.color ~= nil and u.color ~= NULL and not COLORS[u.color]) then
    fail('INVALID_ARGUMENT')
  end
  if u.name == nil and u.time == nil and u.life == nil and u.drunkCounter == nil and u.genericCounter == nil
      and u.color == nil and u.poison == nil and u.energy == nil and u.experience == nil then
    return { 'noop', raw, '[]' }
  end
  settle(st, c)
  local life_before = p.life
  p.name = u.name or p.name
  p.timeRemaining = u.time or p.timeRemaining
  if u.life ~= nil then
    set_life(st, p, u.life)
  end
  if u.poison ~= nil then
    set_poison(st, p, u.poison)
  end
  p.energy = u.energy or p.energy
  p.experience = u.experience or p.experience
  p.drunkCounter = u.drunkCounter or p.drunkCounter
  p.genericCounter = u.genericCounter or p.genericCounter
  if u.color ~= nil then
    p.color = u.color
  end
  note_player(st, p, life_before)
  check_loss(st, p, c)
  return commit(st, c, 'updatePlayer', { playerId = pid })
end)
