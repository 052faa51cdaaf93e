// HEAD's timeout choice: when a player's own clock runs out in a game that has it, that
// player gets a dialog with the three choices (lose lives, gain drunk, die: the last one
// asked again) and a live countdown of the grace left; everyone else sees the pending choice
// and its countdown on the player's card. What is pending comes from the state
// (`timeoutPending`, `timeoutGraceLeft` exact at `serverTime`), so a reload shows it again;
// the `timeoutChoice` frame only announces it.

import { formatClock } from './clock.js';
import { h, icon, showError } from './dom.js';
import { announce, showNotice } from './feedback.js';

/** The grace left of `p`'s pending choice at `serverNow` (ms), or null when none is pending.
 * The grace runs only while the game runs (a pause freezes it). */
export function graceLeft(st, p, serverNow) {
  if (p.timeoutPending !== true || p.isEliminated) return null;
  let ms;
  if (Number.isFinite(p.timeoutGraceLeft)) ms = p.timeoutGraceLeft - (st.status === 'running' ? Math.max(0, serverNow - st.serverTime) : 0);
  else if (Number.isFinite(p.timeoutChoiceDeadline)) ms = p.timeoutChoiceDeadline - serverNow;
  else return null;
  return Math.max(0, Math.round(ms));
}

export class TimeoutChoice {
  constructor({ state, identity, act, dialogs, clock }) {
    this.state = state;
    this.identity = identity;
    this.act = act;
    this.dialogs = dialogs;
    this.clock = clock;
    this.marks = new Map();
    this.dismissed = false;
    this.shownText = '';
    this.buildDialog();
    const tick = () => {
      this.frame();
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  }

  buildDialog() {
    const title = h('h2', { id: 'timeout-title', tabindex: '-1', autofocus: true, text: 'Your time ran out' });
    this.message = h('p', { id: 'timeout-message' });
    this.left = h('p', { id: 'timeout-left', class: 'timeout-left', role: 'timer', 'aria-live': 'off', text: '' });
    const choice = (id, cls, iconName) => h('button', { type: 'button', class: `btn ${cls}`, id }, icon(iconName), h('span'));
    this.lives = choice('tc-lives', 'btn-primary', 'heart');
    this.drunk = choice('tc-drunk', '', 'glass');
    this.die = choice('tc-die', 'btn-danger', 'out');
    this.die.querySelector('span').textContent = 'Accept death';
    this.error = h('p', { class: 'form-error', id: 'timeout-error', role: 'alert', hidden: true });
    const later = h('button', { type: 'button', class: 'btn', id: 'tc-later', text: 'Decide later' });
    this.dialog = h(
      'dialog',
      { id: 'dlg-timeout', 'aria-labelledby': 'timeout-title', 'aria-describedby': 'timeout-message' },
      h('div', { class: 'dialog-body' }, title, this.message, this.left, h('div', { class: 'menu-actions' }, this.lives, this.drunk, this.die), this.error, h('div', { class: 'dialog-actions' }, later)),
    );
    document.body.append(this.dialog);
    this.lives.addEventListener('click', () => this.choose('loseLives'));
    this.drunk.addEventListener('click', () => this.choose('gainDrunk'));
    this.die.addEventListener('click', () =>
      this.dialogs.ask({ title: 'Accept death?', message: 'You are out of the game. This cannot be undone by you (only the host can revive a player).', confirmLabel: 'I am out' }, () => this.choose('die')),
    );
    later.addEventListener('click', () => this.close(true));
    this.dialog.addEventListener('cancel', () => (this.dismissed = true));
  }

  close(dismiss) {
    if (dismiss) this.dismissed = true;
    if (!this.dialog.open) return;
    const focused = document.activeElement;
    if (focused instanceof HTMLElement && this.dialog.contains(focused)) focused.blur();
    this.dialog.close();
  }

  async choose(choice) {
    const buttons = [this.lives, this.drunk, this.die];
    for (const b of buttons) b.disabled = true;
    try {
      if ((await this.act('timeoutChoice', { choice }, this.error)) !== null) this.close(false);
    } finally {
      for (const b of buttons) b.disabled = false;
    }
  }

  /** The `timeoutChoice` frame: someone's clock ran out (or the game resumed with it pending). */
  onChoice(d) {
    const st = this.state();
    const me = this.identity();
    const p = st?.players.find((q) => q.id === d.playerId);
    if (!p) return;
    if (d.playerId === me.seat) {
      this.dismissed = false;
      announce('Your time ran out: choose to lose lives, gain drunk or accept death.');
    } else {
      const text = `${p.name}'s time ran out: ${p.name} is choosing`;
      showNotice('timeout', text);
      announce(`${text}.`);
    }
  }

  mark(card, pid) {
    let m = this.marks.get(pid);
    if (m && card.contains(m.root)) return m;
    const text = h('span', { class: 'badge mark-timeout' });
    const open = h('button', { type: 'button', class: 'btn btn-small timeout-open', hidden: true, text: 'Choose' });
    open.addEventListener('click', () => {
      this.dismissed = false;
      this.open();
    });
    const root = h('div', { class: 'timeout-mark', hidden: true }, text, open);
    card.querySelector('.card-head').after(root);
    m = { root, text, open, shown: '' };
    this.marks.set(pid, m);
    return m;
  }

  render(st, me) {
    const board = document.getElementById('board');
    for (const p of st.players) {
      const card = board?.querySelector(`.card[data-player="${p.id}"]`);
      if (!card) continue;
      const m = this.mark(card, p.id);
      const pending = p.timeoutPending === true && !p.isEliminated;
      m.root.hidden = !pending;
      m.open.hidden = !(pending && p.id === me.seat && st.status !== 'finished');
      card.classList.toggle('timeout-pending', pending);
    }
    const mine = st.players.find((p) => p.id === me.seat);
    const pending = mine !== undefined && mine.timeoutPending === true && !mine.isEliminated && st.status !== 'finished';
    if (!pending) {
      this.dismissed = false;
      this.close(false);
      return;
    }
    const s = st.settings ?? {};
    const lives = Number.isInteger(s.timeoutPenaltyLives) ? s.timeoutPenaltyLives : 2;
    const drunk = Number.isInteger(s.timeoutPenaltyDrunk) ? s.timeoutPenaltyDrunk : 2;
    this.lives.querySelector('span').textContent = `Lose ${lives} ${lives === 1 ? 'life' : 'lives'}`;
    this.drunk.querySelector('span').textContent = `Gain ${drunk} drunk`;
    this.message.textContent =
      st.status === 'paused' ? 'The game is paused: the time to choose is paused too. Choose, or when it runs out you are out of the game.' : 'Choose before the time to choose runs out, or you are out of the game.';
    if (!this.dismissed) this.open();
  }

  open() {
    if (this.dialog.open || document.body.dataset.screen !== 'game') return;
    showError(this.error, '');
    this.frame();
    this.dialogs.show(this.dialog);
  }

  /** Every animation frame: the countdowns, on the cards and in the dialog. */
  frame() {
    const st = this.state();
    if (!st || document.body.dataset.screen !== 'game') {
      if (this.dialog.open) this.close(false);
      return;
    }
    const now = this.clock.now();
    const me = this.identity();
    for (const p of st.players) {
      const m = this.marks.get(p.id);
      if (!m || m.root.hidden) continue;
      const left = graceLeft(st, p, now);
      const text = left === null ? 'Choosing' : `Choosing · ${formatClock(left)}`;
      if (text !== m.shown) {
        m.shown = text;
        m.text.textContent = text;
        m.text.dataset.ms = String(left ?? '');
      }
      if (p.id === me.seat && this.dialog.open) {
        const own = left === null ? '' : `${formatClock(left)} left to choose`;
        if (own !== this.shownText) {
          this.shownText = own;
          this.left.textContent = own;
          this.left.dataset.ms = String(left ?? '');
        }
      }
    }
  }
}
