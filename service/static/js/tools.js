// The table's tools (issue 14), wired in one place so main.js needs only a few hooks: dice
// and the coin for everyone seated, the host's play-order roll (asked first: the order it
// replaces cannot be brought back) and random start player (with an undo in its toast: the
// start player it replaced is one `switch` away) while the game waits, seat colours, the
// host's admin actions' `kicked` frame, the campaign's create fields and info panel. Each is
// reached from the "More" menu (table-rules.js builds it) in two taps or fewer.

import { byId, h, icon } from './dom.js';
import { announce } from './feedback.js';
import { CampaignPanel } from './campaign.js';
import { SeatColors } from './colors.js';
import { onKicked } from './admin.js';

/** The dice a table rolls most; `sides` 2 is the coin. */
const QUICK_DICE = [
  { sides: 6, label: 'd6' },
  { sides: 20, label: 'd20' },
  { sides: 2, label: 'Coin' },
];

const TOAST_MS = 10_000;

/** A die's result as said aloud: a coin's 1 is heads, 2 tails. */
export function dieText(sides, result) {
  if (sides === 2) return result === 1 ? 'Heads' : 'Tails';
  return String(result);
}

/** The place in the More menu: table-rules.js owns it, this module only adds to it. */
function placeInMenu(node) {
  const list = document.querySelector('#dlg-table .menu-actions');
  if (list) list.append(node);
}

export class TableTools {
  /**
   * @param {object} deps
   * @param {() => object | null} deps.state  the newest state of the game shown
   * @param {() => string | null} deps.gameId
   * @param {() => {clientId: string | null, isHost: boolean, seat: number | null}} deps.identity
   * @param {(type: string, data?: object, errorNode?: HTMLElement) => Promise<object | null>} deps.act
   * @param {import('./dialogs.js').Dialogs} deps.dialogs
   */
  constructor({ state, gameId, identity, act, dialogs }) {
    Object.assign(this, { state, gameId, identity, act, dialogs });
    this.buildDice();
    this.buildOrder();
    this.buildToast();
    this.colors = new SeatColors(byId('board'), { act, identity, place: placeInMenu });
    this.campaign = new CampaignPanel({ state, act, dialogs, place: placeInMenu });
    this.orderKey = '';
    // the host's last random start from this device, while it can still be taken back
    this.startUndo = null;
  }

  // -- dice and coin ------------------------------------------------------------------------

  buildDice() {
    const quick = QUICK_DICE.map((d) => {
      const b = h('button', { type: 'button', class: 'btn btn-small', 'data-sides': d.sides, 'aria-label': d.sides === 2 ? 'Flip a coin' : `Roll a ${d.label}` }, h('span', { text: d.label }));
      b.addEventListener('click', () => this.roll(d.sides));
      return b;
    });
    const other = h('button', { type: 'button', class: 'btn btn-small', id: 'btn-dice-other', 'aria-label': 'Roll another die' }, h('span', { text: 'Other…' }));
    other.addEventListener('click', () => this.openCustom());
    this.diceRow = h('div', { class: 'dice-row', id: 'dice-row', role: 'group', 'aria-labelledby': 'dice-row-label' }, h('span', { class: 'dice-label', id: 'dice-row-label', text: 'Dice' }), ...quick, other);
    placeInMenu(this.diceRow);

    this.sidesInput = h('input', { id: 'dice-sides', name: 'sides', type: 'number', inputmode: 'numeric', min: 2, max: 999, step: 1, value: '12', 'aria-describedby': 'dice-sides-hint dice-error' });
    this.diceError = h('p', { class: 'form-error', id: 'dice-error', role: 'alert', hidden: true });
    const cancel = h('button', { type: 'button', class: 'btn', text: 'Cancel' });
    const submit = h('button', { type: 'submit', class: 'btn btn-primary', text: 'Roll' });
    this.diceForm = h(
      'form',
      { class: 'dialog-body', novalidate: true },
      h('h2', { id: 'dice-title', text: 'Roll a die' }),
      h('div', { class: 'field' }, h('label', { for: 'dice-sides', text: 'Sides' }), this.sidesInput, h('p', { class: 'field-hint', id: 'dice-sides-hint', text: 'A whole number from 2 to 999' })),
      this.diceError,
      h('div', { class: 'dialog-actions' }, cancel, submit),
    );
    this.diceDialog = h('dialog', { id: 'dlg-dice', 'aria-labelledby': 'dice-title' }, this.diceForm);
    document.body.append(this.diceDialog);
    cancel.addEventListener('click', () => this.diceDialog.close());
    this.diceForm.addEventListener('submit', async (e) => {
      e.preventDefault();
      const sides = Number(this.sidesInput.value);
      if (!Number.isInteger(sides) || sides < 2 || sides > 999) {
        this.diceError.textContent = 'Sides: a whole number from 2 to 999.';
        this.diceError.hidden = false;
        return;
      }
      if ((await this.act('rollDice', { sides }, this.diceError)) !== null) this.diceDialog.close();
    });
  }

  openCustom() {
    this.diceError.hidden = true;
    this.dialogs.show(this.diceDialog);
    this.sidesInput.select();
  }

  roll(sides) {
    this.act('rollDice', { sides }, byId('game-error'));
  }

  onDice(d) {
    const sides = Number(d.sides);
    const result = Number(d.result);
    if (!Number.isInteger(sides) || !Number.isInteger(result)) return;
    const who = String(d.playerName ?? 'Someone');
    const what = sides === 2 ? 'flipped a coin' : `rolled a d${sides}`;
    this.toast('dice', `${who} ${what}`, dieText(sides, result), { sides: String(sides), result: String(result), who });
    announce(`${who} ${what}: ${dieText(sides, result)}.`);
  }

  // -- play order and random start ---------------------------------------------------------

  buildOrder() {
    this.orderButton = h('button', { type: 'button', class: 'btn', id: 'btn-play-order' }, icon('hash'), h('span', { text: 'Roll for play order' }));
    this.orderButton.addEventListener('click', () =>
      this.dialogs.ask(
        { title: 'Roll for play order?', message: 'Every seated player rolls a d20 and the turn order becomes the order of the rolls. The order the seats have now cannot be brought back.', confirmLabel: 'Roll' },
        () => this.act('rollPlayOrder', {}, byId('game-error')),
      ),
    );
    this.randomButton = h('button', { type: 'button', class: 'btn', id: 'btn-random-start' }, icon('play'), h('span', { text: 'Random start player' }));
    this.randomButton.addEventListener('click', () => this.randomStart());
    placeInMenu(this.orderButton);
    placeInMenu(this.randomButton);

    this.orderTable = h('table', { class: 'order-table', id: 'order-table' });
    this.orderLine = h('p', { class: 'order-line', id: 'order-line' });
    const ok = h('button', { type: 'button', class: 'btn btn-primary', id: 'btn-order-close', text: 'OK' });
    this.orderDialog = h(
      'dialog',
      { id: 'dlg-play-order', class: 'dlg-wide', 'aria-labelledby': 'order-title', 'aria-describedby': 'order-line' },
      h('div', { class: 'dialog-body' }, h('h2', { id: 'order-title', text: 'Play order' }), this.orderLine, h('div', { class: 'order-scroll' }, this.orderTable), h('div', { class: 'dialog-actions' }, ok)),
    );
    document.body.append(this.orderDialog);
    ok.addEventListener('click', () => this.orderDialog.close());
  }

  onPlayOrder(d) {
    const rolls = Array.isArray(d.rolls) ? d.rolls : [];
    const order = Array.isArray(d.newOrder) ? d.newOrder : [];
    const rounds = Math.max(1, ...rolls.map((r) => (Array.isArray(r.rolls) ? r.rolls.length : 0)));
    const head = h('tr', {}, h('th', { scope: 'col', text: 'Place' }), h('th', { scope: 'col', text: 'Player' }), ...Array.from({ length: rounds }, (_, i) => h('th', { scope: 'col', text: rounds === 1 ? 'Roll' : `Round ${i + 1}` })));
    const body = rolls.map((r) =>
      h(
        'tr',
        { 'data-player': r.playerId, 'data-position': r.position },
        h('td', { class: 'order-pos', text: String(r.position) }),
        h('th', { scope: 'row', text: String(r.playerName ?? `Player ${r.playerId}`) }),
        ...Array.from({ length: rounds }, (_, i) => h('td', { class: 'order-roll', text: Array.isArray(r.rolls) && r.rolls[i] !== undefined ? String(r.rolls[i]) : '' })),
      ),
    );
    this.orderTable.replaceChildren(h('thead', {}, head), h('tbody', {}, ...body));
    const names = order.map((pid) => rolls.find((r) => r.playerId === pid)?.playerName ?? `Player ${pid}`);
    this.orderDialog.dataset.order = order.join(',');
    this.orderLine.textContent = names.length > 0 ? `New order: ${names.join(', ')}. ${names[0]} starts.` : 'No order was rolled.';
    if (rounds > 1) this.orderLine.textContent += ` Ties rolled again: ${rounds} rounds.`;
    this.dialogs.show(this.orderDialog);
    announce(`Play order rolled. ${this.orderLine.textContent}`);
  }

  async randomStart() {
    const st = this.state();
    const before = st?.activePlayer;
    const reply = await this.act('randomStartPlayer', {}, byId('game-error'));
    const chosen = reply?.data?.activePlayer;
    if (reply === null || !st || !Number.isInteger(before) || !Number.isInteger(chosen) || chosen === before) return;
    this.startUndo = { gameId: st.id, before, chosen };
    this.syncStartUndo();
  }

  /** The toast's Undo, for the host who drew the start player, while that draw is what it
   * shows and the game still waits. */
  syncStartUndo() {
    const u = this.startUndo;
    const st = this.state();
    const node = this.toastNode;
    const live = u !== null && st !== null && st.id === u.gameId && st.status === 'waiting' && st.activePlayer === u.chosen;
    if (u !== null && !live) this.startUndo = null;
    this.startUndoButton.hidden = !(live && !node.hidden && node.dataset.kind === 'start' && node.dataset.player === String(u.chosen));
  }

  undoRandomStart() {
    const u = this.startUndo;
    this.startUndo = null;
    this.startUndoButton.hidden = true;
    if (u === null) return;
    this.toastNode.hidden = true;
    // while waiting, a `switch` chooses who starts: the start player from before the draw
    this.act('switch', { playerId: u.before }, byId('game-error'));
  }

  onRandomPlayer(d) {
    const name = String(d.playerName ?? `Player ${d.playerId}`);
    this.toast('start', 'Random start player', `${name} starts`, { player: String(d.playerId) });
    announce(`Random start player: ${name} starts.`);
  }

  // -- the toast: one line over the board, for everyone ------------------------------------

  buildToast() {
    this.toastTitle = h('span', { class: 'toast-title' });
    this.toastValue = h('strong', { class: 'toast-value' });
    const close = h('button', { type: 'button', class: 'btn btn-small btn-quiet', id: 'btn-toast-close', 'aria-label': 'Dismiss' }, h('span', { text: 'OK' }));
    this.startUndoButton = h('button', { type: 'button', class: 'btn btn-small btn-primary', id: 'btn-start-undo', 'aria-label': 'Undo the random start player', hidden: true }, h('span', { text: 'Undo' }));
    this.startUndoButton.addEventListener('click', () => this.undoRandomStart());
    this.toastNode = h('div', { class: 'tools-toast', id: 'tools-toast', hidden: true }, h('p', { class: 'toast-text' }, this.toastTitle, this.toastValue), h('span', { class: 'toast-actions' }, this.startUndoButton, close));
    close.addEventListener('click', () => {
      this.toastNode.hidden = true;
      this.syncStartUndo();
    });
    byId('board').before(this.toastNode);
    this.toastTimer = 0;
  }

  toast(kind, title, value, data) {
    const node = this.toastNode;
    for (const key of Object.keys(node.dataset)) delete node.dataset[key];
    Object.assign(node.dataset, { kind, ...data });
    this.toastTitle.textContent = `${title}: `;
    this.toastValue.textContent = value;
    node.hidden = false;
    this.syncStartUndo();
    clearTimeout(this.toastTimer);
    this.toastTimer = setTimeout(() => {
      node.hidden = true;
      this.syncStartUndo();
    }, TOAST_MS);
  }

  // -- hooks ----------------------------------------------------------------------------------

  /** After the board rendered the newest state. */
  render(st, me) {
    const seated = me.isHost || me.seat !== null;
    const live = st.status !== 'finished';
    this.diceRow.hidden = !seated || !live;
    const waiting = st.status === 'waiting';
    this.orderButton.hidden = !me.isHost || !waiting;
    this.randomButton.hidden = !me.isHost || !waiting;
    if (st.id !== this.shownGame) {
      this.shownGame = st.id;
      this.toastNode.hidden = true;
    }
    this.syncStartUndo();
    this.reorder(st);
    this.colors.render(st, me);
    this.campaign.render(st);
  }

  /** The turn order is the players array's (a play-order roll reorders it): the cards
   * follow it. board.js builds them once per game in the first state's order. */
  reorder(st) {
    const key = st.players.map((p) => p.id).join(',');
    if (key === this.orderKey) return;
    this.orderKey = key;
    const grid = byId('board');
    const cards = st.players.map((p) => grid.querySelector(`.card[data-player="${p.id}"]`));
    if (cards.some((c) => c === null)) return;
    const now = [...grid.querySelectorAll(':scope > .card')];
    if (now.every((c, i) => c === cards[i])) return;
    grid.append(...cards);
  }

  /** A frame main.js and table-rules.js do not handle; true when it was this module's. */
  onFrame(msg) {
    const d = msg.data ?? {};
    if (msg.type === 'diceRolled') this.onDice(d);
    else if (msg.type === 'playOrderRolled') this.onPlayOrder(d);
    else if (msg.type === 'randomPlayerSelected') this.onRandomPlayer(d);
    else if (msg.type === 'kicked') onKicked(this.gameId(), d);
    else if (msg.type === 'campaignComplete') this.campaign.onComplete(d);
    else return false;
    return true;
  }

  /** The create form's settings with the campaign's added (and the table's format rules
   * taken out: a campaign's preset sets them). */
  createSettings(settings) {
    return this.campaign.createSettings(settings);
  }
}
