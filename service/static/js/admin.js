// The host's admin actions on one player (HEAD's): add time to a clock, kick the player out
// of the seat (and the game), and revive an eliminated player. They live in the host's
// per-player menu (host.js, #dlg-player); kick and revive are asked first. And the frame
// only a kicked client gets: it shows the kick and forgets the seat it held.

import { byId, h } from './dom.js';
import { announce, flashError, showNotice } from './feedback.js';
import * as store from './store.js';

const MIN_MINUTES = 1;
const MAX_MINUTES = 60;

export class AdminActions {
  /**
   * @param {object} deps
   * @param {() => object | null} deps.state
   * @param {import('./dialogs.js').Dialogs} deps.dialogs
   * @param {(type: string, data?: object, errorNode?: HTMLElement) => Promise<object | null>} deps.act
   */
  constructor({ state, dialogs, act }) {
    Object.assign(this, { state, dialogs, act });
    this.pid = null;
    this.build();
  }

  build() {
    this.minutes = h('input', { id: 'add-minutes', name: 'minutes', type: 'number', inputmode: 'decimal', min: MIN_MINUTES, max: MAX_MINUTES, step: 'any', value: '5', 'aria-describedby': 'add-minutes-hint add-time-error' });
    this.error = h('p', { class: 'form-error', id: 'add-time-error', role: 'alert', hidden: true });
    this.title = h('h2', { id: 'add-time-title', text: 'Add time' });
    const quick = [1, 5, 10].map((m) => {
      const b = h('button', { type: 'button', class: 'btn btn-small', 'data-minutes': m, text: `${m} min` });
      b.addEventListener('click', () => (this.minutes.value = String(m)));
      return b;
    });
    const cancel = h('button', { type: 'button', class: 'btn', text: 'Cancel' });
    const submit = h('button', { type: 'submit', class: 'btn btn-primary', text: 'Add time' });
    this.form = h(
      'form',
      { class: 'dialog-body', novalidate: true },
      this.title,
      h('div', { class: 'field' }, h('label', { for: 'add-minutes', text: 'Minutes to add' }), this.minutes, h('p', { class: 'field-hint', id: 'add-minutes-hint', text: 'From 1 to 60' })),
      h('div', { class: 'quick-row' }, ...quick),
      this.error,
      h('div', { class: 'dialog-actions' }, cancel, submit),
    );
    this.dialog = h('dialog', { id: 'dlg-add-time', 'aria-labelledby': 'add-time-title' }, this.form);
    document.body.append(this.dialog);
    cancel.addEventListener('click', () => this.dialog.close());
    this.form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const minutes = Number(this.minutes.value);
      if (!Number.isFinite(minutes) || minutes < MIN_MINUTES || minutes > MAX_MINUTES) {
        flashError(this.error, 'Minutes: a number from 1 to 60.');
        return;
      }
      if (this.pid !== null && (await this.act('adminAddTime', { playerId: this.pid, minutes }, this.error)) !== null) this.dialog.close();
    });
  }

  player(pid) {
    return this.state()?.players.find((p) => p.id === pid);
  }

  addTime(pid) {
    const p = this.player(pid);
    if (!p) return;
    this.pid = pid;
    this.title.textContent = `Add time for ${p.name}`;
    flashError(this.error, '');
    this.dialogs.show(this.dialog);
    this.minutes.select();
  }

  kick(pid, err) {
    const p = this.player(pid);
    if (!p) return;
    this.dialogs.ask(
      { title: `Kick ${p.name}?`, message: `Their device loses seat ${pid} and ${p.name} is out of the game. Revive brings the player back; the seat is then free for anyone.`, confirmLabel: 'Kick' },
      () => this.act('adminKick', { playerId: pid }, err),
    );
  }

  revive(pid, err) {
    const p = this.player(pid);
    if (!p) return;
    this.dialogs.ask(
      { title: `Revive ${p.name}?`, message: `${p.name} is back in the game: an empty clock restarts from the starting time, life at 0 or less from the starting life.`, confirmLabel: 'Revive' },
      () => this.act('adminRevive', { playerId: pid }, err),
    );
  }
}

/** `kicked`: this browser no longer holds its seat (the server deleted its token). */
export function onKicked(gameId, d) {
  if (gameId) store.dropSeat(gameId);
  const seat = Number.isInteger(d.playerId) ? ` from seat ${d.playerId}` : '';
  const text = `The host removed you${seat}. You are watching now.`;
  showNotice('timeout', text);
  announce(text);
  flashError(byId('game-error'), '');
}
