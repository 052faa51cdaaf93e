// The game board: one card per player, built once per game and then updated in place (so
// a name being typed keeps its focus and caret when a state arrives), plus the per-frame
// clock update.

import { formatClock, levelOf, remainingAt, runningIds } from './clock.js';
import { h, icon, showError } from './dom.js';
import { buildLife, buildStepper } from './life.js';

const COUNTERS = {
  life: { label: 'Life', icon: 'heart', min: -999, max: 9999 },
  drunkCounter: { label: 'Drunk', icon: 'glass', min: 0, max: 999 },
  genericCounter: { label: 'Counter', icon: 'hash', min: 0, max: 999 },
};

const LEVEL_CLASSES = ['warning', 'critical', 'timeout'];

/** Whose seat is it, from this browser's point of view. */
export function seatOf(player, clientId) {
  if (player.claimedBy === null || player.claimedBy === undefined) return 'free';
  return clientId !== null && player.claimedBy === clientId ? 'mine' : 'taken';
}

/** What tapping a card does, or null: while waiting, claim a free seat or choose who
 * starts. Once the game has started a tap on a card does nothing: a tap meant for life, a
 * counter or the card's edge must never move the turn. Only the pass buttons pass it. */
export function tapActionOf(state, player, me) {
  if (state.status !== 'waiting' || player.isEliminated) return null;
  if (seatOf(player, me.clientId) === 'free') return 'claim';
  return state.activePlayer === player.id ? null : 'switch';
}

/** Why the turn cannot pass now although it is someone's to pass, or null: the interrupt
 * stack must unwind and targets must respond first (the server refuses the active player's
 * pass with PRIORITY_PENDING / TARGETS_PENDING). */
export function passBlockOf(state) {
  const stack = Array.isArray(state.interruptingPlayers) ? state.interruptingPlayers : [];
  if (stack.length > 0) return 'priority';
  if (state.targetingState === 'resolving' && Array.isArray(state.awaitingPriority) && state.awaitingPriority.length > 0) return 'targets';
  return null;
}

/** Whether this browser may pass the turn now (the server's rule for `passTurn`; the host's
 * override while priority is pending is a repair, left to `switch`, not the pass button). */
export function mayPass(state, me) {
  if (state.status !== 'running' || passBlockOf(state) !== null) return false;
  const active = state.players.find((p) => p.id === state.activePlayer);
  return me.isHost || (active !== undefined && seatOf(active, me.clientId) === 'mine');
}

export class Board {
  /**
   * @param {HTMLElement} grid
   * @param {object} handlers  tap(pid, action, err), claim(pid, err), release(pid, err),
   *   rename(pid, name, err), update(pid, fields, err) -> Promise, hostMenu(pid, err)
   */
  constructor(grid, handlers) {
    this.grid = grid;
    this.handlers = handlers;
    this.cards = new Map();
    this.gameId = null;
    this.state = null;
    this.me = { clientId: null, isHost: false };
    // taps on +/- not yet confirmed: shown at once, and the next tap builds on them
    this.optimistic = new Map();
    grid.addEventListener('click', (e) => this.onClick(e));
  }

  reset() {
    this.grid.replaceChildren();
    this.cards.clear();
    this.optimistic.clear();
    this.gameId = null;
    this.state = null;
  }

  onClick(e) {
    const target = e.target instanceof Element ? e.target : null;
    if (target === null || target.closest('button, input, select, textarea, a, label') !== null) return;
    const card = target.closest('.card');
    if (card === null || this.state === null) return;
    const pid = Number(card.dataset.player);
    const player = this.state.players.find((p) => p.id === pid);
    const action = player ? tapActionOf(this.state, player, this.me) : null;
    if (action !== null) this.handlers.tap(pid, action, this.cards.get(pid).error);
  }

  build(state) {
    this.reset();
    this.gameId = state.id;
    this.grid.dataset.players = String(state.players.length);
    for (const p of state.players) {
      const card = this.buildCard(p.id);
      this.cards.set(p.id, card);
      this.grid.append(card.root);
    }
  }

  buildCard(pid) {
    const root = h('article', { class: `card seat-${pid}`, 'data-player': pid, 'aria-labelledby': `p${pid}-name` });
    const chip = h('span', { class: 'seat-chip', 'aria-hidden': 'true', text: String(pid) });
    const name = h('h2', { class: 'name', id: `p${pid}-name` });
    const nameInput = h('input', {
      class: 'name-input',
      type: 'text',
      maxlength: 50,
      autocomplete: 'off',
      spellcheck: 'false',
      enterkeyhint: 'done',
      'aria-label': `Name of player ${pid}`,
    });
    const seatBadge = h('span', { class: 'badge seat-badge' });
    const turnBadge = h('span', { class: 'badge turn-badge', hidden: true });
    const error = h('p', { class: 'card-error', role: 'status', hidden: true });

    nameInput.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') {
        e.preventDefault();
        nameInput.blur();
      } else if (e.key === 'Escape') {
        nameInput.value = this.playerOf(pid)?.name ?? nameInput.value;
        nameInput.blur();
      }
    });
    // 'change' fires on Enter-blur and on leaving the field with an edit
    nameInput.addEventListener('change', () => {
      const value = nameInput.value.trim();
      const current = this.playerOf(pid)?.name;
      if (value === '') {
        showError(error, 'A name needs at least one character.');
        nameInput.value = current ?? '';
      } else if (value !== current) {
        this.handlers.rename(pid, value, error);
      }
    });

    const clock = h('div', { class: 'clock', role: 'timer', 'aria-live': 'off', 'data-ms': '0', text: '0:00' });
    const claim = h('button', { type: 'button', class: 'btn claim-btn', hidden: true });
    claim.addEventListener('click', () => {
      const seat = claim.dataset.action;
      if (seat === 'claim') this.handlers.claim(pid, error);
      else if (seat === 'release') this.handlers.release(pid, error);
    });

    const counters = {};
    const stepper = (field) => {
      counters[field] = buildStepper(pid, field, COUNTERS[field], (delta) => this.adjust(pid, field, delta, error));
      return counters[field].root;
    };
    // Life is used every turn and stays in view; the rarer counters fold behind a toggle
    // that still shows their values (and the penalties), so a phone fits two whole cards.
    const extrasId = `p${pid}-extras`;
    const summary = {
      drunkCounter: h('span', { class: 'sum-value' }),
      genericCounter: h('span', { class: 'sum-value' }),
      penalties: h('span', { class: 'sum-value penalties' }),
    };
    const toggle = h(
      'button',
      { type: 'button', class: 'extras-toggle', 'aria-expanded': 'false', 'aria-controls': extrasId },
      h('span', { class: 'sr-only', text: `Counters of player ${pid}: ` }),
      h('span', { class: 'sum', title: 'Drunk' }, icon('glass'), h('span', { class: 'sr-only', text: 'drunk ' }), summary.drunkCounter),
      h('span', { class: 'sum', title: 'Counter' }, icon('hash'), h('span', { class: 'sr-only', text: ', counter ' }), summary.genericCounter),
      h('span', { class: 'sum', title: 'Penalties' }, icon('flag'), h('span', { class: 'sr-only', text: ', penalties ' }), summary.penalties),
    );
    const extras = h('div', { class: 'extras', id: extrasId, hidden: true }, stepper('drunkCounter'), stepper('genericCounter'));
    toggle.addEventListener('click', () => {
      const open = extras.hidden;
      extras.hidden = !open;
      toggle.setAttribute('aria-expanded', open ? 'true' : 'false');
    });
    const life = buildLife(pid, {
      adjust: (delta) => this.adjust(pid, 'life', delta, error),
      set: (value) => this.setCounter(pid, 'life', value, error),
      invalid: () => showError(error, `Life is a whole number from ${COUNTERS.life.min} to ${COUNTERS.life.max}.`),
    });
    counters.life = { value: life.value, render: life.render };
    const stats = h('div', { class: 'stats' }, life.root, toggle);
    // the pass zone of the active player's own card (and of every active card on the host's
    // device): the one place on a card that passes the turn
    const pass = h('button', { type: 'button', class: 'btn btn-primary pass-btn', hidden: true }, icon('pass'), h('span', { text: 'Pass turn' }));
    pass.addEventListener('click', () => this.handlers.tap(pid, 'pass', error));

    const menu = h('button', { type: 'button', class: 'btn btn-quiet host-menu', 'aria-label': `Host actions for player ${pid}`, hidden: true }, icon('more'));
    menu.addEventListener('click', () => this.handlers.hostMenu(pid, error));

    root.append(
      h('header', { class: 'card-head' }, chip, h('div', { class: 'name-box' }, name, nameInput), h('div', { class: 'badges' }, turnBadge, seatBadge), menu),
      clock,
      claim,
      pass,
      stats,
      extras,
      error,
    );
    return { root, name, nameInput, seatBadge, turnBadge, clock, claim, pass, counters, summary, menu, error, shown: '', level: '' };
  }

  playerOf(pid) {
    return this.state?.players.find((p) => p.id === pid);
  }

  /** Applies a state (already known to be the newest) for this browser's identity. */
  render(state, me) {
    if (this.gameId !== state.id || this.cards.size !== state.players.length) this.build(state);
    this.state = state;
    this.me = me;
    for (const p of state.players) this.renderCard(this.cards.get(p.id), p, state, me);
  }

  renderCard(card, p, state, me) {
    const seat = seatOf(p, me.clientId);
    const finished = state.status === 'finished';
    const active = !finished && state.activePlayer === p.id;
    const canEdit = (me.isHost || seat === 'mine') && !p.isEliminated;
    const tap = tapActionOf(state, p, me);
    const runs = runningIds(state).has(p.id);
    const cls = card.root.classList;
    cls.toggle('active', active);
    // every clock that runs is marked, the active player's or not (interrupts, targets)
    cls.toggle('running', runs);
    cls.toggle('paused', active && state.status === 'paused');
    cls.toggle('my-seat', seat === 'mine');
    cls.toggle('claimed-other', seat === 'taken');
    cls.toggle('free', seat === 'free');
    cls.toggle('selectable', state.status === 'waiting' && seat === 'free');
    cls.toggle('tappable', tap !== null);
    cls.toggle('eliminated', p.isEliminated);
    cls.toggle('winner', state.winner === p.id);
    card.root.dataset.seat = seat;
    card.root.title = tap === 'claim' ? 'Tap to take this seat' : tap === 'switch' ? `Tap to let ${p.name} start` : '';
    card.pass.hidden = !(active && mayPass(state, me));

    card.name.textContent = p.name;
    card.name.hidden = canEdit;
    card.nameInput.hidden = !canEdit;
    card.nameInput.setAttribute('aria-label', seat === 'mine' ? 'Your name' : `Name of ${p.name}`);
    if (document.activeElement !== card.nameInput) card.nameInput.value = p.name;

    card.seatBadge.textContent = state.winner === p.id ? 'Winner' : p.isEliminated ? 'Out' : seat === 'mine' ? 'You' : seat === 'taken' ? 'Taken' : state.status === 'waiting' ? 'Free' : 'Open';
    card.seatBadge.dataset.kind = state.winner === p.id ? 'winner' : p.isEliminated ? 'out' : seat;
    card.turnBadge.hidden = !active;
    card.turnBadge.textContent = state.status === 'waiting' ? 'Starts' : state.status === 'paused' ? 'Turn · paused' : 'Turn';

    const claimAction = state.status !== 'waiting' ? null : seat === 'free' ? 'claim' : seat === 'mine' ? 'release' : null;
    card.claim.hidden = claimAction === null;
    card.claim.dataset.action = claimAction ?? '';
    card.claim.textContent = claimAction === 'release' ? 'Leave this seat' : 'Take this seat';
    card.claim.classList.toggle('btn-primary', claimAction === 'claim');

    for (const [field, parts] of Object.entries(card.counters)) {
      const value = this.shownValue(p, field);
      if (parts.render) {
        parts.render(value, canEdit);
        continue;
      }
      parts.value.textContent = String(value);
      parts.minus.hidden = !canEdit;
      parts.plus.hidden = !canEdit;
    }
    card.summary.drunkCounter.textContent = String(this.shownValue(p, 'drunkCounter'));
    card.summary.genericCounter.textContent = String(this.shownValue(p, 'genericCounter'));
    card.summary.penalties.textContent = String(p.penalties);
    card.summary.penalties.dataset.count = String(p.penalties);
    card.menu.hidden = !me.isHost;
  }

  shownValue(p, field) {
    const pending = this.optimistic.get(`${p.id}:${field}`);
    return pending ? pending.value : p[field];
  }

  adjust(pid, field, delta, errorNode) {
    const p = this.playerOf(pid);
    if (!p) return;
    const pending = this.optimistic.get(`${pid}:${field}`);
    this.setCounter(pid, field, (pending ? pending.value : p[field]) + delta, errorNode);
  }

  /** Shows `value` at once and sends it; while a send is in flight later values wait and
   * only the newest goes next (a held button or fast taps: one request at a time). */
  setCounter(pid, field, value, errorNode) {
    const p = this.playerOf(pid);
    if (!p) return;
    const key = `${pid}:${field}`;
    const spec = COUNTERS[field];
    const pending = this.optimistic.get(key) ?? { value: p[field], inflight: false, dirty: false };
    const next = Math.min(spec.max, Math.max(spec.min, value));
    if (next === pending.value) return;
    pending.value = next;
    this.optimistic.set(key, pending);
    const card = this.cards.get(pid);
    card.counters[field].value.textContent = String(next);
    if (card.summary[field]) card.summary[field].textContent = String(next);
    if (pending.inflight) {
      pending.dirty = true;
      return;
    }
    const send = () => {
      pending.inflight = true;
      pending.dirty = false;
      this.handlers.update(pid, { [field]: pending.value }, errorNode).finally(() => {
        pending.inflight = false;
        if (this.optimistic.get(key) !== pending) return;
        if (pending.dirty) {
          send();
          return;
        }
        this.optimistic.delete(key);
        if (this.state) this.render(this.state, this.me);
      });
    };
    send();
  }

  /** One animation frame: every clock from the last state and the server time now. */
  frame(serverNow) {
    const state = this.state;
    if (state === null) return;
    const running = runningIds(state);
    for (const p of state.players) {
      const card = this.cards.get(p.id);
      if (!card) continue;
      const ms = remainingAt(state, p, serverNow, running);
      const text = formatClock(ms);
      card.clock.dataset.ms = String(ms);
      if (text !== card.shown) {
        card.shown = text;
        card.clock.textContent = text;
      }
      const level = levelOf(ms, p.isEliminated);
      if (level !== card.level) {
        card.level = level;
        card.root.classList.remove(...LEVEL_CLASSES);
        if (level !== 'normal') card.root.classList.add(level);
      }
    }
  }
}
