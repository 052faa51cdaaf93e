// HEAD's turn systems in the players' hands, wired in one place so main.js needs only a few
// hooks: the interrupt stack (Interrupt, Pass priority, the PRIORITY badge), targeting (a
// Target mode that makes the other cards' Target buttons appear, Confirm, Cancel, and the
// targets' Pass), why the turn cannot pass while either holds it, the timeout choice
// (timeout-choice.js) and its create-form section (timeout-form.js).
//
// The server decides everything (docs/protocol.md, `interrupt` … `cancelTargeting`); this
// module only shows the state it sent and sends the requests. Every control here is a
// button: a tap on a card itself still never does anything once the game has started.

import { passBlockOf } from './board.js';
import { byId, h, icon } from './dom.js';
import { announce, showNotice } from './feedback.js';
import { TimeoutChoice } from './timeout-choice.js';
import { CreateTimeout } from './timeout-form.js';

function list(st, key) {
  return Array.isArray(st[key]) ? st[key] : [];
}

function nameIn(st, pid) {
  return st?.players.find((p) => p.id === pid)?.name ?? `Player ${pid}`;
}

/** "Bob", "Bob and Cara", "Bob, Cara and Dan" */
function names(st, ids) {
  const all = ids.map((pid) => nameIn(st, pid));
  return all.length <= 1 ? (all[0] ?? '') : `${all.slice(0, -1).join(', ')} and ${all[all.length - 1]}`;
}

/** Why the turn waits, in words, or null (board.js passBlockOf decides whether it does). */
export function passBlockText(st) {
  const block = passBlockOf(st);
  if (block === 'priority') {
    const stack = list(st, 'interruptingPlayers');
    return `${nameIn(st, stack[stack.length - 1])} holds priority: the turn can pass once everyone who interrupted has passed priority.`;
  }
  if (block === 'targets') return `Waiting for the targets to respond (${names(st, list(st, 'awaitingPriority'))}): the turn can pass once they have passed.`;
  return null;
}

export class TurnSystems {
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
    this.identity = identity;
    this.act = act;
    this.createTimeout = new CreateTimeout();
    this.timeout = new TimeoutChoice({ state, identity, act, dialogs, clock });
    this.parts = new Map();
    this.targetMode = false;
    this.shown = null;
    this.buildControls();
  }

  buildControls() {
    const button = (id, label, iconName, extra = {}) => h('button', { type: 'button', class: 'btn', id, hidden: true, ...extra }, icon(iconName), h('span', { class: 'turn-label', text: label }));
    this.interrupt = button('btn-interrupt', 'Interrupt', 'bolt');
    this.passPriority = button('btn-pass-priority', 'Pass priority', 'pass', { class: 'btn btn-primary' });
    this.target = button('btn-target', 'Target', 'shield', { 'aria-pressed': 'false' });
    this.confirm = button('btn-confirm-targets', 'Confirm targets', 'play', { class: 'btn btn-primary' });
    this.cancel = button('btn-cancel-targets', 'Cancel targeting', 'out');
    this.respond = button('btn-respond', 'Pass (respond)', 'pass', { class: 'btn btn-primary' });
    this.confirmLabel = this.confirm.querySelector('span');
    this.error = h('p', { class: 'form-error', id: 'turn-error', role: 'alert', hidden: true });
    this.note = h('p', { class: 'turn-note', id: 'turn-note', role: 'status', hidden: true });
    const box = h('div', { class: 'turn-controls', id: 'turn-controls' }, this.passPriority, this.respond, this.confirm, this.target, this.cancel, this.interrupt);
    byId('btn-pass').after(box);
    byId('status-hint').after(this.note, this.error);
    byId('btn-pass').setAttribute('aria-describedby', 'turn-note');
    this.interrupt.addEventListener('click', () => this.act('interrupt', {}, this.error));
    this.passPriority.addEventListener('click', () => this.act('passPriority', {}, this.error));
    this.respond.addEventListener('click', () => this.act('passTargetPriority', {}, this.error));
    this.confirm.addEventListener('click', () => this.act('confirmTargets', {}, this.error));
    this.target.addEventListener('click', () => {
      this.targetMode = !this.targetMode;
      this.rerender();
    });
    this.cancel.addEventListener('click', async () => {
      const st = this.state();
      // a mode with nothing picked yet is this device's alone: nothing to tell the server
      if (st && st.targetingState === 'none') {
        this.targetMode = false;
        this.rerender();
        return;
      }
      if ((await this.act('cancelTargeting', {}, this.error)) !== null) this.targetMode = false;
    });
  }

  rerender() {
    const st = this.state();
    if (st) this.render(st, this.identity());
  }

  /** The create form's settings with the timeout choice's added, or null when one is invalid. */
  createSettings(settings) {
    const extra = this.createTimeout.read();
    return extra === null ? null : { ...settings, ...extra };
  }

  cardOf(pid) {
    return byId('board').querySelector(`.card[data-player="${pid}"]`);
  }

  /** The marks and the Target button of one card, added after the board built it. */
  build(card, pid) {
    const badge = (cls) => h('span', { class: `badge ${cls}`, hidden: true });
    const priority = badge('mark-priority');
    const stack = badge('mark-stack');
    const targeted = badge('mark-target');
    const marks = h('div', { class: 'turn-marks', hidden: true }, priority, stack, targeted);
    const pick = h('button', { type: 'button', class: 'btn target-btn', 'aria-pressed': 'false', hidden: true }, icon('shield'), h('span'));
    pick.addEventListener('click', () => this.act('toggleTarget', { playerId: pid }, this.error));
    const root = h('div', { class: 'turn-parts' }, marks, pick);
    card.querySelector('.card-head').after(root);
    const parts = { root, marks, priority, stack, targeted, pick, pickLabel: pick.querySelector('span') };
    this.parts.set(pid, parts);
    return parts;
  }

  /** After the board rendered the newest state (and the status line was written). */
  render(st, me) {
    if (this.shown !== st.id) {
      this.shown = st.id;
      this.parts.clear();
      this.targetMode = false;
      this.prevStack = null;
    }
    const seat = me.seat;
    const mine = st.players.find((p) => p.id === seat);
    const alive = mine !== undefined && !mine.isEliminated;
    const running = st.status === 'running';
    const stack = list(st, 'interruptingPlayers');
    const targeted = list(st, 'targetedPlayers');
    const awaiting = list(st, 'awaitingPriority');
    const tstate = st.targetingState ?? 'none';
    const holder = stack.length > 0 ? stack[stack.length - 1] : null;
    const myTurn = alive && st.activePlayer === seat && st.status !== 'finished';
    // picking targets is the active player's while the game runs and nobody interrupts
    const canPick = myTurn && running && stack.length === 0 && tstate !== 'resolving';
    if (!canPick) this.targetMode = false;
    if (tstate === 'selecting' && canPick) this.targetMode = true;

    // the active player holds priority while the stack is empty: their Interrupt is only
    // offered to answer someone else's (one control more at most on every device)
    this.interrupt.hidden = !(running && alive && holder !== seat && (st.activePlayer !== seat || stack.length > 0));
    this.passPriority.hidden = !(seat !== null && stack.includes(seat) && st.status !== 'finished');
    // the one who holds priority gets the big button's place (the pass is hidden meanwhile)
    this.passPriority.classList.toggle('btn-primary', holder === seat);
    this.passPriority.classList.toggle('btn-big', holder === seat);
    this.respond.hidden = !(seat !== null && tstate === 'resolving' && awaiting.includes(seat) && st.status !== 'finished');
    this.respond.classList.toggle('btn-big', stack.length === 0);
    this.target.hidden = !canPick;
    this.target.setAttribute('aria-pressed', this.targetMode ? 'true' : 'false');
    this.confirm.hidden = !(canPick && tstate === 'selecting' && targeted.length > 0);
    this.confirmLabel.textContent = `Confirm ${targeted.length} target${targeted.length === 1 ? '' : 's'}`;
    const original = st.originalActivePlayer ?? st.activePlayer;
    this.cancel.hidden = !((canPick && this.targetMode) || (tstate === 'resolving' && alive && original === seat && st.status !== 'finished'));

    for (const p of st.players) {
      const card = this.cardOf(p.id);
      if (!card) continue;
      let parts = this.parts.get(p.id);
      if (!parts || !card.contains(parts.root)) parts = this.build(card, p.id);
      const positions = stack.map((pid, i) => (pid === p.id ? i + 1 : 0)).filter((n) => n > 0);
      const holds = holder === p.id && !p.isEliminated;
      parts.priority.hidden = !holds;
      parts.priority.textContent = 'Priority';
      const waiting = positions.filter((n) => n !== stack.length);
      parts.stack.hidden = waiting.length === 0;
      // where on the stack (1 = the first to interrupt), for everyone waiting under the top
      parts.stack.textContent = `Stack ${waiting.join(', ')} of ${stack.length}`;
      let mark = '';
      if (tstate === 'selecting' && targeted.includes(p.id)) mark = 'Targeted';
      else if (tstate === 'resolving' && awaiting.includes(p.id)) mark = 'Responding';
      else if (tstate === 'resolving' && targeted.includes(p.id)) mark = 'Passed';
      else if (tstate === 'resolving' && original === p.id) mark = 'Targeting';
      parts.targeted.hidden = mark === '';
      parts.targeted.textContent = mark;
      parts.targeted.dataset.kind = mark.toLowerCase();
      parts.marks.hidden = parts.priority.hidden && parts.stack.hidden && parts.targeted.hidden;
      card.classList.toggle('has-priority', holds);
      card.classList.toggle('targeted', mark === 'Targeted' || mark === 'Responding');
      const pickable = this.targetMode && p.id !== seat && !p.isEliminated;
      const picked = targeted.includes(p.id);
      parts.pick.hidden = !pickable;
      parts.pick.setAttribute('aria-pressed', picked ? 'true' : 'false');
      parts.pickLabel.textContent = picked ? 'Targeted' : 'Target';
      parts.root.hidden = parts.marks.hidden && parts.pick.hidden;
      parts.pick.setAttribute('aria-label', picked ? `Stop targeting ${p.name}` : `Target ${p.name}`);
    }
    this.renderNote(st, me, { stack, targeted, tstate, holder });
    this.timeout.render(st, me);
    this.announceStack(st, stack);
  }

  renderNote(st, me, { stack, targeted, tstate, holder }) {
    let text = '';
    const block = passBlockText(st);
    if (st.status === 'finished' || st.status === 'waiting') text = '';
    else if (block !== null) text = block;
    else if (tstate === 'selecting') text = `${nameIn(st, st.activePlayer)} is picking targets${targeted.length > 0 ? `: ${names(st, targeted)}` : ''}.`;
    else if (this.targetMode) text = 'Tap Target on each player you target, then Confirm.';
    if (this.targetMode && tstate === 'selecting') text += ' Tap Target on a player to add or drop them, then Confirm.';
    this.note.textContent = text;
    this.note.hidden = text === '';
    // the status line's "Tap Pass turn" would be wrong while the turn waits
    if (block !== null && st.status === 'running') byId('status-hint').textContent = stack.length > 0 && holder === me.seat ? 'You hold priority: Pass priority when you are done.' : me.seat !== null && list(st, 'awaitingPriority').includes(me.seat) ? 'You are targeted: Pass (respond) when you are done.' : '';
  }

  /** Interrupts have no event of their own: the stack's change is announced from the states. */
  announceStack(st, stack) {
    const prev = this.prevStack;
    this.prevStack = stack.slice();
    if (prev === null || st.status === 'waiting') return;
    if (stack.length > prev.length) {
      const who = nameIn(st, stack[stack.length - 1]);
      showNotice('warning', `${who} interrupts and holds priority`);
      announce(`${who} interrupts and holds priority.`);
    } else if (stack.length < prev.length) {
      announce(stack.length > 0 ? `Priority back to ${nameIn(st, stack[stack.length - 1])}.` : `Priority back to ${nameIn(st, st.activePlayer)}.`);
    }
  }

  /** A frame main.js does not handle itself; true when it was this module's. */
  onFrame(msg) {
    const d = msg.data ?? {};
    const st = this.state();
    switch (msg.type) {
      case 'targetingUpdated': {
        const picked = Array.isArray(d.targetedPlayers) ? d.targetedPlayers : [];
        announce(picked.length > 0 ? `${nameIn(st, d.activePlayer)} targets ${names(st, picked)}.` : `${nameIn(st, d.activePlayer)} has no targets picked.`);
        return true;
      }
      case 'targetingStarted': {
        const targets = Array.isArray(d.targets) ? d.targets : [];
        const text = `${nameIn(st, d.originalPlayer)} targets ${names(st, targets)}: respond, then pass`;
        showNotice('warning', text);
        announce(`${text}.`);
        return true;
      }
      case 'priorityPassed': {
        const left = Array.isArray(d.awaitingPriority) ? d.awaitingPriority : [];
        announce(`${nameIn(st, d.passedBy)} passed.${left.length > 0 ? ` Waiting for ${names(st, left)}.` : ''}`);
        return true;
      }
      case 'targetingComplete': {
        const text = `Targets resolved: ${nameIn(st, d.activePlayer)}'s turn again`;
        showNotice('warning', text);
        announce(`${text}.`);
        this.targetMode = false;
        return true;
      }
      case 'targetingCanceled':
        announce(`Targeting canceled. ${nameIn(st, d.activePlayer)}'s turn.`);
        this.targetMode = false;
        return true;
      case 'timeoutChoice':
        this.timeout.onChoice(d);
        return true;
      default:
        return false;
    }
  }
}
