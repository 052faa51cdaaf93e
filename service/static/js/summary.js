// The end of a game: who won, and each player's time used and turns (gameComplete's
// `summary`, or the finished state's own per-player `timeUsed` and `turns` after a reload),
// shown first as the victory overlay over the board (victory.js) and, once dismissed, above
// it. A campaign's round ends in a gameComplete whose next state is already the next round's:
// the overlay then shows the round's result from the frame alone.
// Also the turn and round counters in the game's header while it is played.

import { byId, h, icon } from './dom.js';
import { LOSS_REASONS, rulesLine } from './rules-form.js';
import { VictoryOverlay } from './victory.js';

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
    this.victory = new VictoryOverlay(this.root);
    this.victory.onClose = () => this.last && this.render(this.last);
    // the game whose end this page has shown the overlay for (once per game: a dismissed
    // overlay stays dismissed through the states that follow)
    this.shownFor = null;
    this.last = null;
  }

  /** gameComplete: keep its summary for the state that follows, and lift it over the
   * board. `st` is the state before the end (the names, and a campaign's round). */
  onComplete(gameId, d, st = null) {
    this.gameId = gameId;
    this.summary = Array.isArray(d.summary) ? d.summary : null;
    if (!st || st.id !== gameId) return;
    const team = Array.isArray(d.winnerTeam) ? d.winnerTeam : null;
    const round = st.mode === 'campaign' && st.campaign ? st.campaign.currentRound : null;
    this.fill(st, Number.isInteger(d.winnerId) ? d.winnerId : null, team, this.summary, round);
    this.shownFor = gameId;
    this.victory.open(gameId, round !== null ? 'round' : 'game');
  }

  /** The headline: the winner (or the two-headed giant team), or nobody. */
  headline(st, winnerId, team, round) {
    const name = (pid) => st.players.find((p) => p.id === pid)?.name ?? `Player ${pid}`;
    const ids = team && team.length > 0 ? team : winnerId !== null ? [winnerId] : [];
    const of = round !== null ? ` round ${round}` : '';
    if (ids.length === 0) return round !== null ? `Round ${round} over: no winner` : 'Game over: no winner';
    return ids.length > 1 ? `${ids.map(name).join(' and ')} win${of}` : `${name(ids[0])} wins${of}`;
  }

  fill(st, winnerId, team, summary, round = null) {
    this.root.dataset.winner = winnerId === null ? '' : String(winnerId);
    this.title.textContent = this.headline(st, winnerId, team, round);
    const rows = summary || st.players.map((p) => ({ playerId: p.id, timeUsed: p.timeUsed, turns: p.turns }));
    const body = rows.map((r) => {
      const p = st.players.find((q) => q.id === r.playerId);
      const won = team ? team.includes(r.playerId) : r.playerId === winnerId;
      const out = won ? 'winner' : p?.isEliminated ? (LOSS_REASONS[p.eliminatedReason] ?? 'out') : round !== null ? 'out' : '';
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
    this.last = st;
    const finished = st.status === 'finished';
    const v = this.victory;
    // a campaign round's overlay outlives its round: the next round's state came right after
    // (until that round starts: the overlay must not hold the keyboard's shortcuts then)
    const roundShown = v.isOpen && v.kind === 'round' && v.gameId === st.id && st.status !== 'running' && st.status !== 'paused';
    if (v.isOpen && !roundShown && (!finished || v.gameId !== st.id)) v.close(false);
    this.root.hidden = !finished && !roundShown;
    if (!finished) {
      if (this.gameId !== st.id || st.status === 'waiting') this.summary = null;
      // a game that is over again (a reset, an undo) shows its end again
      this.shownFor = roundShown ? st.id : null;
      return;
    }
    const winner = st.players.find((p) => p.id === st.winner);
    // two-headed giant: seats 1+2, 3+4, … win together
    const mate = winner && st.settings?.format === 'twoHeadedGiant' ? st.players.find((p) => p.id === (winner.id % 2 === 1 ? winner.id + 1 : winner.id - 1)) : null;
    const team = winner && mate ? [Math.min(winner.id, mate.id), Math.max(winner.id, mate.id)] : null;
    const ended = st.mode === 'campaign' && st.campaign ? (st.campaign.history ?? []).length : null;
    if (!roundShown) this.fill(st, winner ? winner.id : null, team, this.gameId === st.id ? this.summary : null, ended);
    // once per game and page: at its end, or on the first state of a game already over
    if (this.shownFor !== st.id) {
      this.shownFor = st.id;
      v.open(st.id, 'game');
    }
  }
}
