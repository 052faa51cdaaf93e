--[[
  admin_revive: the host brings an eliminated player back (HEAD's adminRevive). A clock at
  zero restarts from the game's initialTime and a life at or below zero from the starting
  life (a campaign's: its preset's), and no timeout choice is pending (HEAD cleared it too).
  A game that this player's elimination had finished is paused with no winner, to be
  resumed by `start` or `pause`. A completed campaign's result stands (GAME_FINISHED): its
  last round cannot be reopened after campaignComplete.

  Revive reverses a mistaken elimination, whatever its reason (eliminatedReason is cleared),
  and brings the player back just short of each loss rule that is on: poison at the
  format's limit goes to one below it, each commander's damage of 21 or more to 20
  (lib/formats.lua below_limits), so the next change to another counter does not knock them
  out again at once. In two-headed giant the team comes back together.

  KEYS: the six common game keys (lib/context.lua).
  ARGV: the seven common arguments, then
    ARGV[8] player id
  Returns: {"ok"|"dup", state JSON, events JSON}
  Errors: GAME_NOT_FOUND, NOT_OWNER_ADMIN, PLAYER_NOT_FOUND, PLAYER_NOT_ELIMINATED, GAME_FINISHED,
    INVALID_ARGUMENT
  Publishes: the new state.
]]
--- @include "lib/context.lua"
--- @include "lib/state.lua"
--- @include "lib/rules.lua"
--- @include "lib/campaign.lua"
--- @include "lib/formats.lua"
--- @include "lib/commit.lua"

return run(function()
  local c = context()
  local pid = tonumber(ARGV[8])
  local st, raw, p = host_on_player(c, pid, 'NOT_OWNER_ADMIN')
  if not st then
    return { 'dup', raw, '[]' }
  end
  if not p.isEliminated then
    fail('PLAYER_NOT_ELIMINATED')
  end
  settle(st, c)
  local cp = campaign_of(st)
  if cp and cp.status == 'completed' then
    fail('GAME_FINISHED')
  end
  local mate = teammate(st, p)
  for _, q in ipairs({ p, mate }) do
    if q.isEliminated then
      q.isEliminated = false
      q.eliminatedReason = NULL
      clear_choice(q)
      if q.timeRemaining <= 0 then
        q.timeRemaining = st.settings.initialTime
      end
    end
  end
  if p.life <= 0 then
    set_life(st, p, starting_life(st))
  end
  below_limits(st, p)
  if mate then
    below_limits(st, mate)
  end
  if st.status == 'finished' and alive_sides(st) >= 2 then
    st.status = 'paused'
    st.winner = NULL
  end
  return commit(st, c, 'adminRevive', { playerId = pid })
end)
