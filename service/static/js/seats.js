// Who sits where and who runs the table: a seated player's concession (asked first), the
// host's seat actions in each seat's menu (host.js: hand the host role to a seated player,
// move a player to a free seat, free a seat; each asked first), and the offer to take the
// host role once the host has been away for the game's host timeout. The frames only the
// affected client gets (`hostGranted`, `seatMoved`, `seatFreed`) update what this browser
// stores.

import { byId, h, icon } from './dom.js';
import { announce, flashError } from './feedback.js';
import * as store from './store.js';

const DEFAULT_HOST_TIMEOUT = 120_000;

function held(p) {
  return p.claimedBy !== null && p.claimedBy !== undefined;
}

export class SeatControls {
  /**
   * @param {object} deps
   * @param {() => object | null} deps.state
   * @param {() => {clientId: string | null, isHost: boolean, seat: number | null}} deps.identity
   * @param {(type: string, data?: object, errorNode?: HTMLElement) => Promise<object | null>} deps.act
   * @param {import('./dialogs.js').Dialogs} deps.dialogs
   * @param {import('./clock.js').ServerClock} deps.clock
   * @param {() => string | null} deps.gameId
   * @param {(button: HTMLElement) => void} deps.place  puts a button in the table menu
   */
  constructor({ state, identity, act, dialogs, clock, gameId, place }) {
    Object.assign(this, { state, identity, act, dialogs, clock, gameId, place });
    this.build();
    setInterval(() => this.renderHostAway(), 1000);
  }

  build() {
    this.concedeButton = h('button', { type: 'button', class: 'btn btn-danger', id: 'btn-concede', hidden: true }, icon('flag'), h('span', { text: 'Concede' }));
    this.concedeButton.addEventListener('click', () => this.concede());
    this.place(this.concedeButton);

    this.awayText = h('span', { class: 'host-away-text' });
    this.claimButton = h('button', { type: 'button', class: 'btn btn-small btn-primary', id: 'btn-claim-host', text: 'Take the host role' });
    this.claimButton.addEventListener('click', () => this.act('claimHost', {}, this.awayError));
    this.awayError = h('p', { class: 'form-error', role: 'alert', hidden: true });
    this.away = h('div', { class: 'host-away', id: 'host-away', hidden: true }, this.awayText, this.claimButton, this.awayError);
    byId('board').before(this.away);
  }

  player(pid) {
    return this.state()?.players.find((p) => p.id === pid);
  }

  /** After every state. */
  render(st) {
    const me = this.identity();
    const mine = me.seat !== null ? this.player(me.seat) : null;
    this.concedeButton.hidden = !(mine && !mine.isEliminated && (st.status === 'running' || st.status === 'paused'));
    this.renderHostAway();
  }

  renderHostAway() {
    const st = this.state();
    const me = this.identity();
    const since = st?.hostAwaySince;
    const show = st !== null && Number.isFinite(since) && me.seat !== null && !me.isHost;
    this.away.hidden = !show;
    if (!show) return;
    const timeout = Number.isInteger(st.settings?.hostTimeout) ? st.settings.hostTimeout : DEFAULT_HOST_TIMEOUT;
    const left = since + timeout - this.clock.now();
    this.claimButton.disabled = left > 0;
    this.awayText.textContent = left > 0 ? `The host is away. You can take the host role in ${Math.ceil(left / 1000)} s.` : 'The host is away. Any seated player can take the host role.';
  }

  concede() {
    const me = this.identity();
    const p = me.seat !== null ? this.player(me.seat) : null;
    if (!p) return;
    this.dialogs.ask(
      { title: 'Concede the game?', message: `${p.name} leaves the game for good; the others play on.`, confirmLabel: 'Concede' },
      () => this.act('concede', {}, byId('game-error')),
    );
  }

  /** What the seat menu of `pid` offers (dialogs.js playerMenu's `seat`). */
  menuOf(pid) {
    const st = this.state();
    const p = this.player(pid);
    if (!st || !p) return { text: '', host: false, free: false, moveTo: [] };
    const me = this.identity();
    const mine = held(p) && p.claimedBy === me.clientId;
    const hostHere = st.hostSeat === p.id || (mine && me.isHost);
    const who = !held(p) ? 'free' : mine ? 'your seat' : hostHere ? "the host's seat" : 'taken';
    // a move needs a seat nobody holds; once started, one of a player still in (the server's rule)
    const moveTo = held(p) ? st.players.filter((q) => q.id !== p.id && !held(q) && (st.status === 'waiting' || !q.isEliminated)).map((q) => ({ id: q.id, name: q.name })) : [];
    return { text: `Seat ${p.id}: ${who}`, host: held(p) && !hostHere, free: held(p), moveTo };
  }

  makeHost(pid, err) {
    const p = this.player(pid);
    if (!p) return;
    this.dialogs.ask(
      { title: `Make ${p.name} the host?`, message: 'They get the host controls; you keep your seat but lose host rights.', confirmLabel: 'Hand over' },
      () => this.act('transferHost', { playerId: pid }, err),
    );
  }

  freeSeat(pid, err) {
    const p = this.player(pid);
    if (!p) return;
    this.dialogs.ask(
      { title: `Free seat ${pid}?`, message: `${p.name}'s device loses the seat and cannot come back to it; the player stays in the game.`, confirmLabel: 'Free seat' },
      () => this.act('freeSeat', { playerId: pid }, err),
    );
  }

  /** Asked first: the device takes the other seat's name, life, clock and counters, and a
   * player away from that seat loses their way back to it. */
  moveSeat(pid, to, err) {
    const p = this.player(pid);
    const q = this.player(to);
    if (!p || !q) return;
    this.dialogs.ask(
      {
        title: `Move ${p.name} to seat ${to}?`,
        message: `Their device takes seat ${to} (${q.name}), with that seat's name, life, clock and counters, and seat ${pid} is left free. Anyone who left seat ${to} can no longer come back to it.`,
        confirmLabel: 'Move',
      },
      () => this.act('moveSeat', { fromPlayerId: pid, toPlayerId: to }, err),
    );
  }

  /** The frames addressed to this client alone. */
  onFrame(msg) {
    const d = msg.data;
    const gid = this.gameId();
    if (msg.type === 'hostGranted') {
      announce('You are the host now.');
      flashError(byId('game-error'), '');
    } else if (msg.type === 'seatMoved' && gid) {
      const saved = store.getGame(gid);
      if (saved?.seat && Number.isInteger(d.toPlayerId)) store.saveSeat(gid, d.toPlayerId, saved.seat.token);
      announce(`The host moved you to seat ${d.toPlayerId}.`);
    } else if (msg.type === 'seatFreed' && gid) {
      store.dropSeat(gid);
      announce('The host freed your seat. You are watching now.');
    } else {
      return false;
    }
    return true;
  }
}
