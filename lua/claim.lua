--[[
  claim: take a free seat. Seats this client held before are released (their tokens
  cleared). While the game is waiting any seat nobody else holds may be taken, and
  claiming your own seat again rotates its token. Once it has started (running, paused,
  finished) a spectator may take a seat nobody holds whose player is still in the game
  (HEAD's "join mid-game"); the seat's old token, if any, is replaced. The host role bound
  to a seat (lib/host.lua `hostSeat`) follows its holder to the seat they claim, and is bound
  to no seat any more once another client takes that seat (its token replaced).

  KEYS: the six common game keys (lib/context.lua).
  ARGV: the seven common arguments, then
    ARGV[8]  player id
    ARGV[9]  SHA-256 hex of the new seat token
    ARGV[10] token lifetime in ms
  Returns: {"ok"|"dup", state JSON, events JSON}; on "dup" the seat's token hash is
    replaced by ARGV[9] if the caller still holds the seat.
  Errors: GAME_NOT_FOUND, PLAYER_NOT_FOUND, ALREADY_YOUR_PLAYER, PLAYER_ELIMINATED, PLAYER_CLAIMED,
    INVALID_ARGUMENT
  Publishes: the new state.
]]
--- @include "lib/context.lua"
--- @include "lib/state.lua"
--- @include "lib/rules.lua"
--- @include "lib/commit.lua"

return run(function()
  local c = context()
  local pid, tok_hash, token_ms = tonumber(ARGV[8]), ARGV[9], tonumber(ARGV[10])
  if #tok_hash ~= 64 or not token_ms or c.client == '' then
    fail('INVALID_ARGUMENT')
  end
  local st, raw = load(c)
  if is_dup(c) then
    local p = player(st, pid)
    if not p or p.claimedBy ~= c.client then
      fail('PLAYER_CLAIMED')
    end
    rcall('HSET', c.kgame, 'tok:' .. pid, tok_hash, 'exp:' .. pid, c.now + token_ms)
    return { 'dup', raw, '[]' }
  end
  settle(st, c)
  local p = player(st, pid)
  if not p then
    fail('PLAYER_NOT_FOUND')
  end
  if st.status ~= 'waiting' then
    if p.claimedBy == c.client then
      fail('ALREADY_YOUR_PLAYER')
    end
    if p.isEliminated then
      fail('PLAYER_ELIMINATED')
    end
  end
  if not is_null(p.claimedBy) and p.claimedBy ~= c.client then
    fail('PLAYER_CLAIMED')
  end
  if st.hostSeat == pid and p.claimedBy ~= c.client then
    st.hostSeat = NULL
  end
  for _, q in ipairs(st.players) do
    if q.claimedBy == c.client and q.id ~= pid then
      q.claimedBy = NULL
      rcall('HDEL', c.kgame, 'tok:' .. q.id, 'exp:' .. q.id)
      if st.hostSeat == q.id then
        st.hostSeat = pid
      end
    end
  end
  p.claimedBy = c.client
  rcall('HSET', c.kgame, 'tok:' .. pid, tok_hash, 'exp:' .. pid, c.now + token_ms)
  return commit(st, c, 'claim', { playerId = pid })
end)
