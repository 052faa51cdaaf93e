// The home screen: create a game (every setting, validated in place), join by code, and the
// games this browser was in.

import { byId, h, icon, showError } from './dom.js';
import { DEFAULTS, formatDuration, validateCreate } from './settings.js';
import { recentGames } from './store.js';

const CODE = /^[A-Z0-9]{6}$/;

/** Join codes are case-insensitive and forgiving about blanks (the server agrees). */
export function normaliseCode(text) {
  return String(text ?? '').replace(/\s+/g, '').toUpperCase();
}

export function isCode(code) {
  return CODE.test(code);
}

function ago(ms) {
  const min = Math.round(ms / 60_000);
  if (min < 1) return 'just now';
  if (min < 60) return `${min} min ago`;
  const hours = Math.round(min / 60);
  if (hours < 24) return `${hours} h ago`;
  const days = Math.round(hours / 24);
  return `${days} day${days === 1 ? '' : 's'} ago`;
}

function roleOf(entry) {
  const parts = [];
  if (entry.hostToken) parts.push('Host');
  if (entry.seat) parts.push(`Seat ${entry.seat.playerId}`);
  return parts.length > 0 ? parts.join(' · ') : 'Watching';
}

export class Home {
  /**
   * @param {{create: (settings, errorNode, button) => void, join: (code, errorNode) => void,
   *          forget: (code) => void}} handlers
   */
  constructor(handlers) {
    this.handlers = handlers;
    this.form = byId('create-form');
    this.joinForm = byId('join-form');
    const f = this.form.elements;
    f.namedItem('players').value = String(DEFAULTS.playerCount);
    f.namedItem('time').value = formatDuration(DEFAULTS.initialTime);
    f.namedItem('thresholds').value = DEFAULTS.warningThresholds.map(formatDuration).join(', ');
    f.namedItem('penaltyType').value = DEFAULTS.penaltyType;
    f.namedItem('deduction').value = formatDuration(DEFAULTS.penaltyTimeDeduction);
    f.namedItem('penaltyType').addEventListener('change', () => this.syncDeduction());
    this.syncDeduction();

    this.form.addEventListener('submit', (e) => {
      e.preventDefault();
      this.submitCreate();
    });
    // a corrected field loses its message as soon as it is valid again
    this.form.addEventListener('input', () => {
      if (this.form.querySelector('[aria-invalid="true"]')) this.validate(false);
    });
    this.joinForm.addEventListener('submit', (e) => {
      e.preventDefault();
      this.submitJoin();
    });
    byId('recent-list').addEventListener('click', (e) => {
      const button = e.target instanceof Element ? e.target.closest('button[data-code]') : null;
      if (button === null) return;
      const code = button.getAttribute('data-code');
      if (button.dataset.action === 'forget') this.handlers.forget(code);
      else this.handlers.join(code, byId('recent-error'));
    });
  }

  syncDeduction() {
    byId('deduction-row').hidden = this.form.elements.namedItem('penaltyType').value !== 'time_deduction';
  }

  raw() {
    const f = this.form.elements;
    return {
      players: f.namedItem('players').value,
      time: f.namedItem('time').value,
      thresholds: f.namedItem('thresholds').value,
      penaltyType: f.namedItem('penaltyType').value,
      deduction: f.namedItem('deduction').value,
    };
  }

  /** Shows a message under each invalid field; returns the settings when all are valid. */
  validate(focus) {
    const result = validateCreate(this.raw());
    const errors = result.errors ?? {};
    let first = null;
    for (const node of this.form.querySelectorAll('[data-error-for]')) {
      const field = node.getAttribute('data-error-for');
      const input = this.form.elements.namedItem(field);
      showError(node, errors[field] ?? '');
      input?.setAttribute('aria-invalid', errors[field] ? 'true' : 'false');
      if (errors[field] && first === null) first = input;
    }
    if (focus && first) first.focus();
    return result.settings ?? null;
  }

  submitCreate() {
    showError(byId('create-error'), '');
    const settings = this.validate(true);
    if (settings !== null) this.handlers.create(settings, byId('create-error'), byId('create-submit'));
  }

  submitJoin() {
    const input = this.joinForm.elements.namedItem('code');
    const error = byId('join-error');
    const code = normaliseCode(input.value);
    if (!isCode(code)) {
      input.setAttribute('aria-invalid', 'true');
      showError(error, 'A game code is 6 letters and digits, like K7QX2M.');
      input.focus();
      return;
    }
    input.setAttribute('aria-invalid', 'false');
    showError(error, '');
    input.value = code;
    this.handlers.join(code, error);
  }

  notice(message) {
    showError(byId('home-notice'), message);
  }

  renderRecent() {
    const list = byId('recent-list');
    const games = recentGames();
    byId('recent').hidden = games.length === 0;
    const now = Date.now();
    list.replaceChildren(
      ...games.map((g) =>
        h(
          'li',
          { class: 'recent-item' },
          h('span', { class: 'recent-code', text: g.gameId }),
          h('span', { class: 'recent-meta', text: `${roleOf(g)} · ${ago(now - g.lastSeen)}` }),
          h('button', { type: 'button', class: 'btn btn-small btn-primary', 'data-code': g.gameId, 'data-action': 'rejoin', 'aria-label': `Rejoin game ${g.gameId}` }, h('span', { text: 'Rejoin' })),
          h('button', { type: 'button', class: 'btn btn-small btn-quiet', 'data-code': g.gameId, 'data-action': 'forget', 'aria-label': `Forget game ${g.gameId}` }, icon('out')),
        ),
      ),
    );
  }
}
