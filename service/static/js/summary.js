// The end of a game: who won, and each player's time used and turns (gameComplete's
// `summary`, or the finished state's own per-player `timeUsed` and `turns` after a reload).
// Also the turn and round counters in the game's header while it is played.

import { byId, h, icon } from './dom.js';
import { LOSS_REASONS, rulesLine } from './rules-form.js';

/** Time used, to the second: m:ss, or h:mm:ss from an hour. */
function formatUsed(ms) {
  const total = Math.round(Math.max(0, ms) / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

export class GameSummary {
  constructor() {
    this.summary = null;
    this.gameId = null;
    this.table = h('table', { class: 'summary-table' });
    this.title = h('h2', { class: 'summary-title', id: 'summary-title' });
    this.root = h('section', { class: 'summary panel', id: 'game-summary', 'aria-labelledby': 'summary-title', hidden: true }, h('div', { class: 'summary-head' }, icon('trophy'), this.title), this.table);
    byId('board').before(this.root);
    this.turnWide = h('span', { class: 'hide-narrow' });
    this.turnNarrow = h('span', { class: 'show-narrow', 'aria-hidden': 'true' });
    this.counters = h('p', { class: 'turn-round', id: 'turn-round', hidden: true }, this.turnWide, this.turnNarrow);
    byId('game-title').after(this.counters);
    this.rules = h('p', { class: 'rules-line', id: 'rules-line' });
    byId('status-text').after(this.rules);
  }

  /** gameComplete: keep its summary for the state that follows. */
  onComplete(gameId, d) {
    this.gameId = gameId;
    this.summary = Array.isArray(d.summary) ? d.summary : null;
  }

  render(st) {
    const started = Number.isInteger(st.turn) && st.turn > 0;
    this.counters.hidden = !started || st.status === 'finished';
    this.turnWide.textContent = started ? `Turn ${st.turn} · Round ${st.round ?? 1}` : '';
    this.turnNarrow.textContent = started ? `T${st.turn} R${st.round ?? 1}` : '';
    this.counters.dataset.turn = String(st.turn ?? 0);
    this.counters.dataset.round = String(st.round ?? 0);
    // the rules while the table gets ready; the board has the room once play starts
    this.rules.hidden = st.status !== 'waiting';
    this.rules.textContent = st.settings ? rulesLine(st.settings) : '';
    const finished = st.status === 'finished';
    this.root.hidden = !finished;
    if (!finished) {
      if (this.gameId !== st.id || st.status === 'waiting') this.summary = null;
      return;
    }
    const winner = st.players.find((p) => p.id === st.winner);
    // two-headed giant: seats 1+2, 3+4, … win together
    const mate = winner && st.settings?.format === 'twoHeadedGiant' ? st.players.find((p) => p.id === (winner.id % 2 === 1 ? winner.id + 1 : winner.id - 1)) : null;
    this.title.textContent = winner ? (mate ? `${winner.name} and ${mate.name} win` : `${winner.name} wins`) : 'Game over: no winner';
    const rows = (this.gameId === st.id && this.summary) || st.players.map((p) => ({ playerId: p.id, timeUsed: p.timeUsed, turns: p.turns }));
    const body = rows.map((r) => {
      const p = st.players.find((q) => q.id === r.playerId);
      const out = p?.isEliminated ? (LOSS_REASONS[p.eliminatedReason] ?? 'out') : p?.id === st.winner ? 'winner' : '';
      return h(
        'tr',
        { 'data-player': r.playerId },
        h('th', { scope: 'row', text: p?.name ?? `Player ${r.playerId}` }),
        h('td', { class: 'summary-time', text: formatUsed(Number(r.timeUsed) || 0) }),
        h('td', { class: 'summary-turns', text: String(Number(r.turns) || 0) }),
        h('td', { class: 'summary-out', text: out }),
      );
    });
    this.table.replaceChildren(
      h('thead', {}, h('tr', {}, h('th', { scope: 'col', text: 'Player' }), h('th', { scope: 'col', text: 'Time used' }), h('th', { scope: 'col', text: 'Turns' }), h('th', { scope: 'col', text: 'Result' }))),
      h('tbody', {}, ...body),
    );
  }
}
