// Campaigns (HEAD's): a series of rounds by the same table, the score kept across them. The
// create form gets the mode and the preset (a campaign's preset sets the clock and the life,
// so the table's format rules are not sent with it: the server refuses them); the game gets
// a line with the round and an info panel (More → Campaign) with the per-player stats and
// the round history, opened for everyone with the standings when the campaign completes.

import { byId, h, icon } from './dom.js';
import { announce } from './feedback.js';
import { applyValues, lastValues } from './presets.js';

export const PRESETS = {
  standard: { label: 'Standard', hint: '5 rounds; the clock starts at 10 min and loses 1 min a round (at least 5); 20 life; the first to 3 round wins takes it.' },
  blitz: { label: 'Blitz', hint: '7 rounds; 5 min less 30 s a round (at least 2); 20 life; the first to 4 round wins takes it.' },
  endurance: { label: 'Endurance', hint: '10 rounds of 15 min; 20 life; the least time used in all takes it.' },
  wastelands: { label: 'Wastelands', hint: '3 rounds of 6 min with 30 s a turn; 10 life; damage scores points (more for more targets, and in later rounds); the most points take it.' },
};

const WIN_RULES = {
  best_of: (t) => `first to ${t} round wins`,
  first_to: (t) => `first to ${t} round wins`,
  total_time: () => 'least time used',
  total_points: () => 'most points',
};

/** Time used, to the second: m:ss, or h:mm:ss from an hour. */
export function formatUsed(ms) {
  const total = Math.round(Math.max(0, Number(ms) || 0) / 1000);
  const hours = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return hours > 0 ? `${hours}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

/** The player ids of a campaign in standing order (its win rule first, then round wins). */
export function standings(cp) {
  const stats = cp.playerStats ?? {};
  const rule = cp.config?.winCondition;
  const score = (k) => {
    const s = stats[k] ?? {};
    if (rule === 'total_time') return -(Number(s.totalTimeUsed) || 0);
    if (rule === 'total_points') return Number(cp.playerPoints?.[k] ?? s.accumulatedPoints) || 0;
    return Number(s.wins) || 0;
  };
  return Object.keys(stats).sort((a, b) => score(b) - score(a) || (Number(stats[b]?.wins) || 0) - (Number(stats[a]?.wins) || 0) || Number(a) - Number(b));
}

export class CampaignPanel {
  /**
   * @param {object} deps
   * @param {() => object | null} deps.state
   * @param {import('./dialogs.js').Dialogs} deps.dialogs
   * @param {(button: HTMLElement) => void} deps.place  puts a button in the table menu
   */
  constructor({ state, dialogs, place }) {
    this.state = state;
    this.dialogs = dialogs;
    this.completed = null;
    this.buildCreate();
    this.buildPanel(place);
  }

  // -- the create form ----------------------------------------------------------------------

  buildCreate() {
    this.mode = h('select', { id: 'f-mode', name: 'mode' }, h('option', { value: 'casual', text: 'Casual: one game' }), h('option', { value: 'campaign', text: 'Campaign: a series of rounds' }));
    this.preset = h('select', { id: 'f-campaign-preset', name: 'campaignPreset', 'aria-describedby': 'f-campaign-hint' }, ...Object.entries(PRESETS).map(([id, p]) => h('option', { value: id, text: p.label })));
    this.presetHint = h('p', { class: 'field-hint', id: 'f-campaign-hint' });
    this.presetField = h('div', { class: 'field', id: 'campaign-preset-row' }, h('label', { for: 'f-campaign-preset', text: 'Campaign' }), this.preset, this.presetHint);
    const box = h('div', { class: 'campaign-create', id: 'campaign-create' }, h('div', { class: 'field' }, h('label', { for: 'f-mode', text: 'Mode' }), this.mode), this.presetField);
    const form = byId('create-form');
    const anchor = form.querySelector('#rules-create') ?? byId('create-error');
    anchor.before(box);
    this.mode.addEventListener('change', () => this.syncCreate());
    this.preset.addEventListener('change', () => this.syncCreate());
    // presets.js put the last game's values back before these fields existed
    const last = lastValues();
    applyValues(form, Object.fromEntries(Object.entries(last).filter(([name]) => name === 'mode' || name === 'campaignPreset')));
    this.syncCreate();
  }

  syncCreate() {
    const campaign = this.mode.value === 'campaign';
    this.presetField.hidden = !campaign;
    this.presetHint.textContent = `${PRESETS[this.preset.value]?.hint ?? ''} The preset sets each round's clock and life: the time each and the format below are not used.`;
    // the preset sets the life: the format's fields would be refused with it
    for (const node of document.querySelectorAll('#f-rules-format, #f-rules-life, #rules-create .loss-rules input')) node.disabled = campaign;
  }

  /** The create's settings for the mode chosen, or null (an invalid rule elsewhere). */
  createSettings(settings) {
    if (settings === null || this.mode.value !== 'campaign') return settings;
    const out = { ...settings, mode: 'campaign', campaignPreset: this.preset.value };
    delete out.format;
    delete out.startingLife;
    delete out.lossRules;
    return out;
  }

  // -- the game's panel -----------------------------------------------------------------------

  buildPanel(place) {
    this.button = h('button', { type: 'button', class: 'btn', id: 'btn-campaign', hidden: true }, icon('trophy'), h('span', { text: 'Campaign' }));
    this.button.addEventListener('click', () => this.open());
    place(this.button);
    this.line = h('p', { class: 'campaign-line', id: 'campaign-line', hidden: true });
    byId('status-text').after(this.line);

    this.title = h('h2', { id: 'campaign-title', text: 'Campaign' });
    this.summary = h('p', { class: 'campaign-summary', id: 'campaign-summary' });
    this.result = h('p', { class: 'campaign-result', id: 'campaign-result', hidden: true });
    this.stats = h('table', { class: 'campaign-stats', id: 'campaign-stats' });
    this.history = h('table', { class: 'campaign-history', id: 'campaign-history' });
    this.historyTitle = h('h3', { class: 'campaign-sub', text: 'Rounds played' });
    this.noHistory = h('p', { class: 'field-hint', id: 'campaign-no-history', text: 'No round has been played yet.' });
    const close = h('button', { type: 'button', class: 'btn', id: 'btn-campaign-close', text: 'Close' });
    this.dialog = h(
      'dialog',
      { id: 'dlg-campaign', class: 'dlg-wide', 'aria-labelledby': 'campaign-title' },
      h(
        'div',
        { class: 'dialog-body' },
        this.title,
        this.summary,
        this.result,
        h('h3', { class: 'campaign-sub', text: 'Standings' }),
        h('div', { class: 'table-scroll' }, this.stats),
        this.historyTitle,
        this.noHistory,
        h('div', { class: 'table-scroll' }, this.history),
        h('div', { class: 'dialog-actions' }, close),
      ),
    );
    document.body.append(this.dialog);
    close.addEventListener('click', () => this.dialog.close());
  }

  /** What the panel shows: the state's campaign, or the completion frame's newer numbers
   * until the state that follows it arrives. */
  data(st) {
    const cp = st?.campaign;
    if (!cp) return null;
    if (this.completed && this.completed.gameId === st.id && cp.status !== 'completed') {
      const d = this.completed.data;
      return { ...cp, status: 'completed', winner: d.winner ?? null, playerStats: d.stats ?? cp.playerStats, history: d.history ?? cp.history };
    }
    return cp;
  }

  open() {
    this.fill(this.state());
    this.dialogs.show(this.dialog);
  }

  nameOf(st, cp, id) {
    return st.players.find((p) => String(p.id) === String(id))?.name ?? cp.playerNames?.[id] ?? `Player ${id}`;
  }

  fill(st) {
    const cp = this.data(st);
    if (!cp) return;
    const cfg = cp.config ?? {};
    const preset = PRESETS[cp.preset]?.label ?? cfg.name ?? cp.preset;
    const rule = WIN_RULES[cfg.winCondition]?.(cfg.winTarget) ?? '';
    this.dialog.dataset.preset = String(cp.preset ?? '');
    this.dialog.dataset.round = String(cp.currentRound ?? '');
    this.dialog.dataset.status = String(cp.status ?? '');
    this.title.textContent = `Campaign: ${preset}`;
    const done = cp.status === 'completed';
    this.summary.textContent = `${done ? 'Completed after' : 'Round'} ${done ? `${(cp.history ?? []).length} of ${cp.maxRounds}` : `${cp.currentRound} of ${cp.maxRounds}`} rounds · wins: ${rule}`;
    this.result.hidden = !done;
    this.result.textContent = done ? (cp.winner !== null && cp.winner !== undefined ? `${this.nameOf(st, cp, cp.winner)} wins the campaign` : 'The campaign is a draw') : '';
    const points = cfg.winCondition === 'total_points' || cfg.scoring !== undefined;
    const levels = cfg.scoring !== undefined;
    const order = standings(cp);
    const cols = ['Place', 'Player', 'Wins', 'Losses', 'Time used', 'Penalties', 'Points', ...(levels ? ['Level'] : [])];
    this.stats.replaceChildren(
      h('thead', {}, h('tr', {}, ...cols.map((c) => h('th', { scope: 'col', text: c })))),
      h(
        'tbody',
        {},
        ...order.map((k, i) => {
          const s = cp.playerStats[k] ?? {};
          const pts = Number(cp.playerPoints?.[k] ?? s.accumulatedPoints) || 0;
          return h(
            'tr',
            { 'data-player': k },
            h('td', { class: 'cs-place', text: String(i + 1) }),
            h('th', { scope: 'row', class: 'cs-name', text: this.nameOf(st, cp, k) }),
            h('td', { class: 'cs-wins', text: String(Number(s.wins) || 0) }),
            h('td', { class: 'cs-losses', text: String(Number(s.losses) || 0) }),
            h('td', { class: 'cs-time', text: formatUsed(s.totalTimeUsed) }),
            h('td', { class: 'cs-penalties', text: String(Number(s.penalties) || 0) }),
            h('td', { class: 'cs-points', text: String(pts) }),
            ...(levels ? [h('td', { class: 'cs-level', text: String(Number(cp.playerLevels?.[k]) || 1) })] : []),
          );
        }),
      ),
    );
    this.stats.dataset.points = points ? 'yes' : 'no';
    const rounds = Array.isArray(cp.history) ? cp.history : [];
    this.noHistory.hidden = rounds.length > 0;
    this.history.hidden = rounds.length === 0;
    this.history.replaceChildren(
      h('thead', {}, h('tr', {}, h('th', { scope: 'col', text: 'Round' }), h('th', { scope: 'col', text: 'Winner' }), h('th', { scope: 'col', text: 'Time used' }))),
      h(
        'tbody',
        {},
        ...rounds.map((r) =>
          h(
            'tr',
            { 'data-round': r.round },
            h('th', { scope: 'row', class: 'ch-round', text: String(r.round) }),
            h('td', { class: 'ch-winner', text: r.winner !== null && r.winner !== undefined ? this.nameOf(st, cp, r.winner) : 'nobody' }),
            h(
              'td',
              { class: 'ch-players' },
              Object.entries(r.players ?? {})
                .map(([k, p]) => `${this.nameOf(st, cp, k)} ${formatUsed(p.timeUsed)}${points ? ` · ${Number(p.points) || 0} pts` : ''}`)
                .join('; '),
            ),
          ),
        ),
      ),
    );
  }

  /** After every state. */
  render(st) {
    const cp = st.campaign;
    const campaign = st.mode === 'campaign' && cp !== null && cp !== undefined;
    this.button.hidden = !campaign;
    this.line.hidden = !campaign;
    if (!campaign) {
      if (this.dialog.open) this.dialog.close();
      return;
    }
    if (this.completed && (this.completed.gameId !== st.id || cp.status === 'completed')) this.completed = null;
    const preset = PRESETS[cp.preset]?.label ?? cp.preset;
    this.line.textContent = cp.status === 'completed' ? `Campaign ${preset} · completed` : `Campaign ${preset} · Round ${cp.currentRound} of ${cp.maxRounds}`;
    if (this.dialog.open) this.fill(st);
  }

  /** campaignComplete, to everyone: the standings open by themselves. */
  onComplete(d) {
    const st = this.state();
    if (!st) return;
    this.completed = { gameId: st.id, data: d };
    this.fill(st);
    this.dialogs.show(this.dialog);
    announce(this.result.textContent ? `${this.result.textContent}.` : 'The campaign is over.');
  }
}
