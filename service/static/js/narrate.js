// What the game screen says: its status line, and what changed from one state to the next
// (for the aria-live region and the sounds). Pure functions of the states and of who this
// browser is (`me`: {seat, isHost}).

export function nameIn(st, pid) {
  return st.players.find((p) => p.id === pid)?.name ?? `Player ${pid}`;
}

/** {text, hint, keyHint}: the line under the top bar; keyHint only matters with a keyboard. */
export function statusLine(st, me) {
  const active = st.activePlayer !== null ? nameIn(st, st.activePlayer) : null;
  const mineActive = me.seat !== null && me.seat === st.activePlayer;
  if (st.status === 'waiting') {
    const taken = st.players.filter((p) => p.claimedBy !== null).length;
    const starts = active ? ` ${active} starts.` : '';
    return {
      text: `Waiting to start · ${taken} of ${st.players.length} seats taken`,
      hint: me.seat === null ? 'Tap a free seat to play, or just watch.' : `You are ${nameIn(st, me.seat)}.${starts}`,
      keyHint: '',
    };
  }
  if (st.status === 'running') {
    return {
      text: mineActive ? 'Your turn' : `${active}'s turn`,
      hint: mineActive ? 'Tap Pass turn when you are done' : '',
      keyHint: mineActive ? ' (or press Space)' : '',
    };
  }
  if (st.status === 'paused') return { text: `Paused · ${active}'s turn`, hint: '', keyHint: '' };
  return { text: st.winner !== null ? `${nameIn(st, st.winner)} wins!` : 'Game over', hint: '', keyHint: '' };
}

/**
 * {sentences, sounds} for the step from `prev` to `st`: sentences are read out together
 * (one announcement, so none hides another); sounds name methods of Sounds.
 */
export function changes(prev, st, me) {
  const sentences = [];
  const sounds = [];
  const active = st.activePlayer !== null ? nameIn(st, st.activePlayer) : null;
  const mine = me.seat !== null && me.seat === st.activePlayer;
  for (const p of st.players) {
    const before = prev.players.find((q) => q.id === p.id);
    if (before && !before.isEliminated && p.isEliminated && st.status !== 'finished') sentences.push(`${p.name} is out.`);
  }
  if (prev.status !== st.status) {
    // a timeout pauses the game too; its own event already said so, with its own sound
    const timedOut = st.players.some((p) => p.id === st.activePlayer && p.timeRemaining === 0);
    if (st.status === 'running' && prev.status === 'waiting') {
      sentences.push(`Game started. ${active}'s turn.`);
    } else if (st.status === 'running') {
      sentences.push(`Clock running. ${active}'s turn.`);
      sounds.push('resumed');
    } else if (st.status === 'paused' && !timedOut) {
      sentences.push('Clock paused.');
      sounds.push('paused');
    } else if (st.status === 'finished') {
      sentences.push(st.winner !== null ? `${nameIn(st, st.winner)} wins the game!` : 'Game over.');
    } else if (st.status === 'waiting') {
      sentences.push('The game was reset.');
    }
    if (st.status === 'running' && mine) sounds.push('yourTurn');
  } else if (prev.activePlayer !== st.activePlayer && st.activePlayer !== null && st.status !== 'waiting') {
    sentences.push(mine ? `Your turn, ${active}.` : `${active}'s turn.`);
    if (mine && st.status === 'running') sounds.push('yourTurn');
  }
  return { sentences, sounds };
}
