// The table's rules of issue 13, wired in one place so main.js needs only a few hooks: the
// create form's rules, the host's rules dialog, each card's counters and commander damage,
// history and undo, concede and the seats, and the end-of-game summary.

import { speakDuration } from './clock.js';
import { byId, h, icon } from './dom.js';
import { announce, showNotice } from './feedback.js';
import { CardCounters } from './counters.js';
import { HistoryPanel } from './history.js';
import { CreateRules, RulesDialog } from './rules.js';
import { SeatControls } from './seats.js';
import { GameSummary } from './summary.js';

export class TableRules {
  /**
   * @param {object} deps
   * @param {() => object | null} deps.state  the newest state of the game shown
   * @param {() => string | null} deps.gameId
   * @param {() => {clientId: string | null, isHost: boolean, seat: number | null}} deps.identity
   * @param {(type: string, data?: object, errorNode?: HTMLElement) => Promise<object | null>} deps.act
   * @param {import('./dialogs.js').Dialogs} deps.dialogs
   * @param {import('./clock.js').ServerClock} deps.clock
   */
  constructor({ state, gameId, identity, act, dialogs, clock }) {
    this.state = state;
    this.gameId = gameId;
    const show = (dialog) => dialogs.show(dialog);
    const place = this.buildMenu(show);
    /** Puts a button in the table menu (More): for the other modules' actions. */
    this.place = place;
    this.createRules = new CreateRules();
    this.rulesDialog = new RulesDialog({ state, act, place, show });
    this.counters = new CardCounters(byId('board'), {
      update: (pid, fields, err) => act('updatePlayer', { playerId: pid, ...fields }, err),
      commanderDamage: (data, err) => act('commanderDamage', data, err),
    });
    this.history = new HistoryPanel({ state, identity, act, clock, place, show, ask: (question, run) => dialogs.ask(question, run) });
    this.seats = new SeatControls({ state, identity, act, dialogs, clock, gameId, place });
    this.summary = new GameSummary();
    this.shownGame = null;
  }

  /** One button in the game's controls opens the table menu (history and undo, rules,
   * concede, and the lobby's and the tools' actions): two taps to each, and the controls
   * stay one row on a landscape phone.
   * Returns the function that puts a button in it. */
  buildMenu(show) {
    const list = h('div', { class: 'menu-actions' });
    const close = h('button', { type: 'button', class: 'btn', text: 'Close' });
    this.menu = h('dialog', { id: 'dlg-table', 'aria-labelledby': 'table-menu-title' }, h('div', { class: 'dialog-body' }, h('h2', { id: 'table-menu-title', text: 'Table' }), list, h('div', { class: 'dialog-actions' }, close)));
    document.body.append(this.menu);
    // every choice closes the menu first (capture: before its own handler opens what it
    // opens, so closing the menu never takes focus back from that)
    list.addEventListener(
      'click',
      (e) => {
        if (e.target instanceof Element && e.target.closest('button')) this.menu.close();
      },
      true,
    );
    close.addEventListener('click', () => this.menu.close());
    const open = h('button', { type: 'button', class: 'btn', id: 'btn-more', 'aria-haspopup': 'dialog' }, icon('history'), h('span', { text: 'More' }));
    open.addEventListener('click', () => show(this.menu));
    byId('host-controls').before(open);
    return (button) => list.append(button);
  }

  /** The create form's settings with the rules added, or null when a rule is invalid. */
  createSettings(settings) {
    const rules = this.createRules.read(settings);
    return rules === null ? null : { ...settings, ...rules };
  }

  /** After the board rendered the newest state. */
  render(st, me) {
    if (this.shownGame !== st.id) {
      this.shownGame = st.id;
      this.counters.reset();
      this.history.reset();
    }
    this.rulesDialog.button.hidden = !me.isHost;
    this.counters.render(st, me);
    this.history.refresh(st);
    this.seats.render(st);
    this.summary.render(st);
  }

  /** A frame main.js does not handle itself; true when it was this module's. */
  onFrame(msg) {
    if (msg.type === 'gameComplete') this.summary.onComplete(this.gameId(), msg.data, this.state());
    else if (msg.type === 'turnCapWarning' || msg.type === 'turnCapped') this.onTurnCap(msg.type, msg.data);
    else if (msg.type === 'undone') this.history.onUndone(msg.data);
    else return this.seats.onFrame(msg);
    return true;
  }

  /** The turn cap's warning and its pass, to everyone. */
  onTurnCap(type, d) {
    const name = (pid) => this.state()?.players.find((p) => p.id === pid)?.name ?? `Player ${pid}`;
    const text =
      type === 'turnCapWarning'
        ? `${name(d.playerId)}: ${speakDuration(Math.max(0, Number(d.remaining) || 0))} left in this turn`
        : `${name(d.playerId)}'s turn time is up: ${name(d.nextPlayerId)}'s turn`;
    showNotice('warning', text);
    announce(text);
  }

  /** This browser's own action succeeded with `reply`. */
  afterAction(type, data, reply) {
    this.history.offer(type, data, reply);
  }
}
