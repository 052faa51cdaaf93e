// The table's counters on each player's card: poison, energy and experience (− / +), the
// commander damage taken from each opponent (commander and partner columns, sent as
// `commanderDamage` deltas), and why an eliminated player is out. Each card gets one more
// section, added to the board's card after it is built; its buttons are buttons, so a tap
// on them never reaches the card's own tap (board.js ignores taps on buttons).

import { h, icon } from './dom.js';
import { buildStepper } from './life.js';
import { LOSS_REASONS } from './rules-form.js';

const COUNTERS = {
  poison: { label: 'Poison', icon: 'drop', max: 99 },
  energy: { label: 'Energy', icon: 'bolt', max: 999 },
  experience: { label: 'Experience', icon: 'star', max: 999 },
};

function poisonLimit(state) {
  return state.settings?.format === 'twoHeadedGiant' ? 15 : 10;
}

function showsCommander(state) {
  const s = state.settings ?? {};
  return s.lossRules?.commanderDamage === true || s.format === 'commander' || s.format === 'brawl';
}

export class CardCounters {
  /**
   * @param {HTMLElement} grid  the board
   * @param {{update: (pid, fields, err) => Promise, commanderDamage: (data, err) => Promise}} handlers
   */
  constructor(grid, handlers) {
    this.grid = grid;
    this.handlers = handlers;
    this.parts = new Map();
    this.optimistic = new Map();
    this.state = null;
    this.me = null;
  }

  cardOf(pid) {
    return this.grid.querySelector(`.card[data-player="${pid}"]`);
  }

  errorOf(pid) {
    return this.cardOf(pid)?.querySelector('.card-error') ?? null;
  }

  build(card, pid) {
    const summary = {};
    const sum = (field) => {
      summary[field] = h('span', { class: 'sum-value' });
      return h('span', { class: `sum sum-${field}`, title: COUNTERS[field].label }, icon(COUNTERS[field].icon), h('span', { class: 'sr-only', text: ` ${COUNTERS[field].label.toLowerCase()} ` }), summary[field]);
    };
    const cmdSum = h('span', { class: 'sum-value' });
    const cmdSumBox = h('span', { class: 'sum sum-cmd', title: 'Most commander damage from one source' }, icon('shield'), h('span', { class: 'sr-only', text: ' most commander damage ' }), cmdSum);
    const steppers = {};
    const stepper = (field) => {
      steppers[field] = buildStepper(pid, field, COUNTERS[field], (delta) => this.adjust(pid, field, delta));
      return steppers[field].root;
    };
    const sums = h('span', { class: 'table-sums' }, sum('poison'), sum('energy'), sum('experience'), cmdSumBox);
    const grid = h('table', { class: 'cmd-grid' });
    const cmdBox = h('div', { class: 'cmd-box' }, h('h3', { class: 'cmd-title', text: 'Commander damage taken' }), grid);
    const root = h('div', { class: 'table-extras' }, stepper('poison'), stepper('energy'), stepper('experience'), cmdBox);
    // a tap between the buttons (on a value, a label) is no tap on the card: never a pass
    root.addEventListener('click', (e) => e.stopPropagation());
    const reason = h('p', { class: 'out-reason', hidden: true });
    card.insertBefore(reason, card.querySelector('.card-error'));
    // into the board's own fold (its toggle shows the values): no extra row on a phone
    let toggle = card.querySelector('.extras-toggle');
    let panel = card.querySelector('.extras');
    if (toggle && panel) {
      toggle.append(sums);
      panel.append(root);
    } else {
      const toggleId = `p${pid}-table-counters`;
      toggle = h('button', { type: 'button', class: 'table-toggle', 'aria-expanded': 'false', 'aria-controls': toggleId }, sums);
      panel = h('div', { id: toggleId, hidden: true }, root);
      toggle.addEventListener('click', () => {
        panel.hidden = !panel.hidden;
        toggle.setAttribute('aria-expanded', panel.hidden ? 'false' : 'true');
      });
      card.insertBefore(h('div', { class: 'table-counters' }, toggle, panel), reason);
    }
    const parts = { root, reason, sums, toggle, panel, summary, steppers, cmdSum, cmdSumBox, cmdBox, grid, cells: new Map(), gridKey: '' };
    this.parts.set(pid, parts);
    return parts;
  }

  /** After the board rendered `state`: (re)builds missing sections and fills them. */
  render(state, me) {
    this.state = state;
    this.me = me;
    for (const p of state.players) {
      const card = this.cardOf(p.id);
      if (!card) continue;
      let parts = this.parts.get(p.id);
      if (!parts || !card.contains(parts.root)) parts = this.build(card, p.id);
      this.renderCard(parts, p, state, me);
    }
  }

  renderCard(parts, p, state, me) {
    const mine = p.claimedBy !== null && p.claimedBy !== undefined && p.claimedBy === me.clientId;
    const canEdit = (me.isHost || mine) && !p.isEliminated && state.status !== 'finished';
    const reason = p.isEliminated ? (LOSS_REASONS[p.eliminatedReason] ?? null) : null;
    parts.reason.hidden = reason === null;
    parts.reason.textContent = reason === null ? '' : `Out: ${reason}`;
    parts.root.closest('.card')?.setAttribute('data-out-reason', p.isEliminated ? String(p.eliminatedReason ?? '') : '');
    for (const [field, spec] of Object.entries(COUNTERS)) {
      const value = this.shownValue(p, field);
      parts.summary[field].textContent = String(value);
      // a zero is no news: the fold's button stays one line on a phone
      parts.summary[field].parentElement.hidden = value === 0;
      parts.steppers[field].value.textContent = field === 'poison' ? `${value}/${poisonLimit(state)}` : String(value);
      parts.steppers[field].minus.hidden = !canEdit;
      parts.steppers[field].plus.hidden = !canEdit;
      parts.steppers[field].minus.disabled = value <= 0;
      parts.steppers[field].plus.disabled = value >= spec.max;
    }
    const commander = showsCommander(state);
    parts.cmdBox.hidden = !commander;
    parts.cmdSumBox.hidden = true;
    const damage = Array.isArray(p.commanderDamage) ? p.commanderDamage : [];
    let most = 0;
    for (const pair of damage) for (const n of Array.isArray(pair) ? pair : []) most = Math.max(most, Number(n) || 0);
    parts.cmdSum.textContent = String(most);
    parts.cmdSumBox.hidden = !commander || most === 0;
    if (commander) this.renderGrid(parts, p, state, canEdit);
  }

  renderGrid(parts, p, state, canEdit) {
    const sources = state.players.filter((q) => q.id !== p.id);
    const key = sources.map((q) => q.id).join(',');
    if (parts.gridKey !== key) {
      parts.gridKey = key;
      parts.cells.clear();
      const head = h('tr', {}, h('th', { scope: 'col', text: 'From' }), h('th', { scope: 'col', text: 'Commander' }), h('th', { scope: 'col', text: 'Partner' }));
      const rows = sources.map((q) => {
        const name = h('th', { scope: 'row', class: 'cmd-source' });
        const cell = (partner) => {
          const value = h('span', { class: 'cmd-value' });
          const what = () => `${partner ? 'partner ' : ''}commander damage to player ${p.id} from ${this.nameOf(q.id)}`;
          const minus = h('button', { type: 'button', class: 'step cmd-step', 'data-dir': '-1' }, icon('minus'));
          const plus = h('button', { type: 'button', class: 'step cmd-step', 'data-dir': '1' }, icon('plus'));
          minus.addEventListener('click', () => this.damage(p.id, q.id, partner, -1));
          plus.addEventListener('click', () => this.damage(p.id, q.id, partner, 1));
          parts.cells.set(`${q.id}:${partner ? 1 : 0}`, { value, minus, plus, what });
          const kind = h('span', { class: 'cmd-kind', 'aria-hidden': 'true', text: partner ? 'Partner' : 'Commander' });
          return h('td', { class: 'cmd-cell', 'data-source': q.id, 'data-partner': partner ? '1' : '0' }, kind, minus, value, plus);
        };
        parts.cells.set(`${q.id}:name`, { name });
        return h('tr', {}, name, cell(false), cell(true));
      });
      parts.grid.replaceChildren(h('thead', {}, head), h('tbody', {}, ...rows));
    }
    const damage = Array.isArray(p.commanderDamage) ? p.commanderDamage : [];
    for (const q of sources) {
      parts.cells.get(`${q.id}:name`).name.textContent = q.name;
      for (const partner of [0, 1]) {
        const cell = parts.cells.get(`${q.id}:${partner}`);
        const n = Number(damage[q.id - 1]?.[partner]) || 0;
        cell.value.textContent = String(n);
        cell.value.classList.toggle('lethal', n >= 21);
        cell.minus.setAttribute('aria-label', `Decrease ${cell.what()}`);
        cell.plus.setAttribute('aria-label', `Increase ${cell.what()}`);
        cell.minus.hidden = !canEdit;
        cell.plus.hidden = !canEdit;
        cell.minus.disabled = n <= 0;
      }
    }
  }

  nameOf(pid) {
    return this.state?.players.find((q) => q.id === pid)?.name ?? `player ${pid}`;
  }

  shownValue(p, field) {
    const pending = this.optimistic.get(`${p.id}:${field}`);
    return pending ? pending.value : (Number(p[field]) || 0);
  }

  adjust(pid, field, delta) {
    const p = this.state?.players.find((q) => q.id === pid);
    if (!p) return;
    const key = `${pid}:${field}`;
    const pending = this.optimistic.get(key) ?? { value: Number(p[field]) || 0, inflight: 0 };
    const next = Math.min(COUNTERS[field].max, Math.max(0, pending.value + delta));
    if (next === pending.value) return;
    pending.value = next;
    pending.inflight += 1;
    this.optimistic.set(key, pending);
    this.render(this.state, this.me);
    // one client's actions apply in order: the last reply carries the sum of the taps
    this.handlers.update(pid, { [field]: next }, this.errorOf(pid)).finally(() => {
      pending.inflight -= 1;
      if (pending.inflight === 0 && this.optimistic.get(key) === pending) {
        this.optimistic.delete(key);
        if (this.state) this.render(this.state, this.me);
      }
    });
  }

  damage(pid, sourceId, partner, amount) {
    this.handlers.commanderDamage({ playerId: pid, sourceId, partner, amount }, this.errorOf(pid));
  }

  reset() {
    this.parts.clear();
    this.optimistic.clear();
  }
}
