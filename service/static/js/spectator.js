// A browser in a game without a seat and without host rights is watching: a banner says so,
// and offers the first free seat still in the game (while waiting any free seat; once
// started the server lets a free seat of a player still in be taken too).

import { seatOf } from './board.js';
import { byId } from './dom.js';

/** The first seat this browser could take now, or null. */
export function freeSeatOf(state) {
  if (state.status === 'finished') return null;
  const p = state.players.find((q) => seatOf(q, null) === 'free' && !q.isEliminated);
  return p ?? null;
}

export class Spectator {
  /** @param {(pid: number, errorNode: HTMLElement) => void} claim */
  constructor(claim) {
    this.seat = null;
    byId('btn-take-seat').addEventListener('click', () => {
      if (this.seat !== null) claim(this.seat, byId('watching-error'));
    });
  }

  /** @param {object | null} state  @param {{isHost: boolean, seat: number | null}} me */
  render(state, me) {
    const watching = state !== null && !me.isHost && me.seat === null;
    byId('watching').hidden = !watching;
    byId('game').dataset.watching = watching ? 'yes' : 'no';
    if (!watching) return;
    const free = freeSeatOf(state);
    this.seat = free ? free.id : null;
    const button = byId('btn-take-seat');
    button.hidden = free === null;
    byId('btn-take-seat-label').textContent = free ? `Take seat ${free.id} (${free.name})` : '';
    byId('watching-text').textContent = free
      ? 'You are watching. Take a free seat to play.'
      : state.status === 'finished'
        ? 'You are watching. This game is over.'
        : 'You are watching. Every seat is taken.';
  }
}
