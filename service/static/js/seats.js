// Who sits where and who runs the table: a seated player's concession (asked first), the
// host's seats dialog (hand the host role to a seated player, move a player to a free seat,
// free a seat), and the offer to take the host role once the host has been away for the
// game's host timeout. The frames only the affected client gets (`hostGranted`,
// `seatMoved`, `seatFreed`) update what this browser stores.

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

    this.seatsButton = h('button', { type: 'button', class: 'btn', id: 'btn-seats' }, icon('more'), h('span', { text: 'Seats and host' }));
    this.seatsButton.addEventListener('click', () => this.openSeats());
    this.place(this.seatsButton);

    this.list = h('ul', { class: 'seat-list' });
    this.error = h('p', { class: 'form-error', role: 'alert', hidden: true });
    const close = h('button', { type: 'button', class: 'btn', text: 'Close' });
    this.dialog = h(
      'dialog',
      { id: 'dlg-seats', class: 'dlg-wide', 'aria-labelledby': 'seats-title' },
      h('div', { class: 'dialog-body' }, h('h2', { id: 'seats-title', text: 'Seats and host' }), this.error, this.list, h('div', { class: 'dialog-actions' }, close)),
    );
    document.body.append(this.dialog);
    close.addEventListener('click', () => this.dialog.close());
    this.list.addEventListener('click', (e) => this.onSeatAction(e));

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
    this.seatsButton.hidden = !me.isHost;
    if (this.dialog.open) this.renderSeats();
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

  openSeats() {
    flashError(this.error, '');
    this.renderSeats();
    this.dialogs.show(this.dialog);
  }

  renderSeats() {
    const st = this.state();
    if (!st) return;
    const me = this.identity();
    const free = st.players.filter((p) => !held(p) && (st.status === 'waiting' || !p.isEliminated));
    this.list.replaceChildren(
      ...st.players.map((p) => {
        const hostHere = st.hostSeat === p.id || (held(p) && p.claimedBy === me.clientId && me.isHost);
        const who = held(p) ? (hostHere ? 'Host' : 'Seated') : 'Free';
        const actions = [];
        if (held(p)) {
          if (!hostHere) actions.push(h('button', { type: 'button', class: 'btn btn-small', 'data-action': 'host', 'data-player': p.id, text: 'Make host' }));
          if (free.length > 0) {
            const sel = h('select', { class: 'seat-target', 'aria-label': `Move ${p.name} to`, 'data-player': p.id }, ...free.map((q) => h('option', { value: q.id, text: `Seat ${q.id} (${q.name})` })));
            actions.push(sel, h('button', { type: 'button', class: 'btn btn-small', 'data-action': 'move', 'data-player': p.id, text: 'Move' }));
          }
          actions.push(h('button', { type: 'button', class: 'btn btn-small btn-danger', 'data-action': 'free', 'data-player': p.id, text: 'Free seat' }));
        }
        return h('li', { class: 'seat-row', 'data-player': p.id }, h('span', { class: 'seat-name' }, h('strong', { text: `${p.id}. ${p.name}` }), h('span', { class: 'field-hint', text: ` ${who}` })), h('span', { class: 'seat-actions' }, ...actions));
      }),
    );
  }

  onSeatAction(e) {
    const button = e.target instanceof Element ? e.target.closest('button[data-action]') : null;
    if (!button) return;
    const pid = Number(button.dataset.player);
    const p = this.player(pid);
    if (!p) return;
    const action = button.dataset.action;
    const done = async (type, data) => {
      if ((await this.act(type, data, this.error)) !== null) this.renderSeats();
    };
    if (action === 'host') {
      this.dialogs.ask(
        { title: `Make ${p.name} the host?`, message: 'They get the host controls; you keep your seat but lose host rights.', confirmLabel: 'Hand over' },
        () => done('transferHost', { playerId: pid }),
      );
    } else if (action === 'move') {
      const sel = this.list.querySelector(`select[data-player="${pid}"]`);
      const to = Number(sel?.value);
      if (Number.isInteger(to)) done('moveSeat', { fromPlayerId: pid, toPlayerId: to });
    } else if (action === 'free') {
      this.dialogs.ask(
        { title: `Free seat ${pid}?`, message: `${p.name}'s device loses the seat and cannot come back to it; the player stays in the game.`, confirmLabel: 'Free seat' },
        () => done('freeSeat', { playerId: pid }),
      );
    }
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
