// The host's tools: the per-player menu behind each card's "…" (penalty, time, elimination,
// admin.js's add time, kick and revive, seats.js's host handover, seat move and freed seat,
// and the seat's colour: each one tap in the menu) and the game-wide reset and settings. The
// server checks host rights; these only ask first where an action cannot be undone, and
// prefill from the newest state.

import { remainingAt } from './clock.js';
import { AdminActions } from './admin.js';
import { byId } from './dom.js';

export class HostControls {
  /**
   * @param {object} deps
   * @param {() => object | null} deps.state  the newest state of the game shown
   * @param {import('./dialogs.js').Dialogs} deps.dialogs
   * @param {import('./clock.js').ServerClock} deps.clock
   * @param {(type: string, data?: object, errorNode?: HTMLElement, busyKey?: string) => Promise<object | null>} deps.act
   * @param {() => import('./seats.js').SeatControls} deps.seats  the seat actions (built later than this)
   */
  constructor({ state, dialogs, clock, act, seats }) {
    this.state = state;
    this.dialogs = dialogs;
    this.clock = clock;
    this.act = act;
    this.seats = seats;
    this.admin = new AdminActions({ state, dialogs, act });
  }

  /** The buttons of the host bar; once, they live as long as the page. */
  install() {
    byId('btn-reset').addEventListener('click', () =>
      this.dialogs.ask(
        { title: 'Reset the game?', message: 'Clocks, life, counters, penalties and eliminations go back to the start. Names and seats stay.', confirmLabel: 'Reset' },
        () => this.act('reset', {}, byId('game-error'), 'reset'),
      ),
    );
    byId('btn-settings').addEventListener('click', () => {
      const st = this.state();
      if (st) this.dialogs.editSettings(st.settings, async (update, err) => (await this.act('updateSettings', update, err)) !== null);
    });
  }

  player(pid) {
    return this.state()?.players.find((p) => p.id === pid);
  }

  /** The menu behind a card's "…" button. */
  playerMenu(pid, err) {
    const st = this.state();
    const p = this.player(pid);
    if (!st || !p) return;
    const seats = this.seats();
    this.dialogs.playerMenu({ player: p, settings: st.settings, finished: st.status === 'finished', seat: seats.menuOf(pid) }, {
      penalty: () => this.addPenalty(pid, err),
      time: () => this.editTime(pid),
      eliminate: () =>
        this.dialogs.ask(
          { title: `Eliminate ${p.name}?`, message: 'Their clock stops for good; the last player standing wins.', confirmLabel: 'Eliminate' },
          () => this.act('eliminate', { playerId: pid }, err),
        ),
      addTime: (minutes) => (minutes === null ? this.admin.addTime(pid) : this.act('adminAddTime', { playerId: pid, minutes }, err)),
      kick: () => this.admin.kick(pid, err),
      revive: () => this.admin.revive(pid, err),
      host: () => seats.makeHost(pid, err),
      free: () => seats.freeSeat(pid, err),
      move: (to) => seats.moveSeat(pid, to, err),
      color: (color) => this.act('updatePlayer', { playerId: pid, color }, err),
    });
  }

  addPenalty(pid, err) {
    const st = this.state();
    const p = this.player(pid);
    if (!st || !p) return;
    if (st.settings.penaltyType === 'game_loss') {
      this.dialogs.ask(
        { title: 'Penalty: game loss', message: `In this game a penalty eliminates ${p.name}.`, confirmLabel: 'Add penalty' },
        () => this.act('addPenalty', { playerId: pid }, err),
      );
    } else {
      this.act('addPenalty', { playerId: pid }, err);
    }
  }

  editTime(pid) {
    const st = this.state();
    const p = this.player(pid);
    if (!p || !st) return;
    this.dialogs.editTime(p, remainingAt(st, p, this.clock.now()), async (ms, dialogError) => (await this.act('updatePlayer', { playerId: pid, time: ms }, dialogError)) !== null);
  }
}
