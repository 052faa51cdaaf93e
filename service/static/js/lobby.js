// The lobby in the players' hands: the create form's game name and "list this game" switch,
// the home screen's list of open games (GET /api/games, refreshed while the home screen is
// shown), the game's name next to its code, and the host's lobby actions in the More menu:
// rename, list or unlist, and delete (asked first). `gameEnded` (the host deleted the game,
// or it expired) sends every page in the game home and forgets the game on this device.
//
// The name and the listing are sent right after `create` (renameGame, setListed) rather than
// in its settings: the service takes a create naming `name` or `listed` for a HEAD client's
// and then gives the game HEAD's 30 s turn bonus and timeout choice (docs/protocol.md, "Turn
// bonus"), and naming a game must not change how its clocks run.

import { byId, h, icon, showError } from './dom.js';
import { announce, flashError } from './feedback.js';
import * as store from './store.js';

export const DEFAULT_NAME = 'Game';
export const MAX_NAME = 50;
/** How often the open games are read again while the home screen is in view. */
export const REFRESH_MS = 15_000;
const LIST_LIMIT = 20;
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

const STATUS_LABEL = { waiting: 'Waiting for players', running: 'Running', paused: 'Paused', finished: 'Finished' };
const MODE_LABEL = { casual: 'Casual', campaign: 'Campaign' };

/** What the service would store for `text`: trimmed, blank = "Game"; or an error to show. */
export function checkName(text) {
  const name = String(text ?? '').trim();
  if ([...name].length > MAX_NAME) return { error: `At most ${MAX_NAME} characters.` };
  if (CONTROL.test(name)) return { error: 'The name cannot contain control characters.' };
  return { name: name === '' ? DEFAULT_NAME : name };
}

/** "just now", "2 min ago", "3 h ago", "2 days ago". */
export function ago(ms) {
  const min = Math.floor(Math.max(0, ms) / 60_000);
  if (min < 1) return 'just now';
  if (min < 60) return `${min} min ago`;
  const hours = Math.floor(min / 60);
  if (hours < 24) return `${hours} h ago`;
  const days = Math.floor(hours / 24);
  return `${days} day${days === 1 ? '' : 's'} ago`;
}

/** A lobby entry as the list shows it, or null for one that is not a game. */
function entryOf(raw) {
  if (!raw || typeof raw !== 'object' || typeof raw.id !== 'string' || !/^[A-Z0-9]{6}$/.test(raw.id)) return null;
  const seats = Number.isInteger(raw.playerCount) ? raw.playerCount : 0;
  const held = Number.isInteger(raw.claimedCount) ? raw.claimedCount : 0;
  return {
    id: raw.id,
    name: typeof raw.name === 'string' && raw.name !== '' ? raw.name : DEFAULT_NAME,
    mode: MODE_LABEL[raw.mode] ?? 'Casual',
    status: typeof raw.status === 'string' ? raw.status : 'waiting',
    seats,
    held,
    lastActivity: Number(raw.lastActivity) || 0,
  };
}

export class Lobby {
  /**
   * @param {object} deps
   * @param {() => object | null} deps.state  the newest state of the game shown
   * @param {() => string | null} deps.gameId
   * @param {() => {clientId: string | null, isHost: boolean, seat: number | null}} deps.identity
   * @param {(type: string, data?: object, errorNode?: HTMLElement) => Promise<object | null>} deps.act
   * @param {import('./dialogs.js').Dialogs} deps.dialogs
   * @param {import('./clock.js').ServerClock} deps.clock
   * @param {(code: string, errorNode: HTMLElement) => void} deps.join  joins a game from the list
   * @param {(message: string) => void} deps.exit  back to the home screen with a notice
   */
  constructor({ state, gameId, identity, act, dialogs, clock, join, exit }) {
    Object.assign(this, { state, gameId, identity, act, dialogs, clock, join, exit });
    this.pending = null;
    this.ending = null;
    this.shown = { id: null, name: null };
    this.timer = 0;
    this.loading = false;
    this.buildCreate();
    this.buildList();
    this.buildTitle();
  }

  // -- the create form ----------------------------------------------------------------------

  buildCreate() {
    const form = byId('create-form');
    this.nameInput = h('input', { id: 'f-game-name', name: 'gameName', type: 'text', maxlength: MAX_NAME, autocomplete: 'off', placeholder: 'Friday Commander', 'aria-describedby': 'h-game-name e-game-name' });
    this.nameError = h('p', { id: 'e-game-name', class: 'field-error', hidden: true });
    this.listedInput = h('input', { id: 'f-listed', name: 'listed', type: 'checkbox', checked: true, 'aria-describedby': 'h-listed' });
    const fields = h(
      'div',
      { class: 'lobby-create' },
      h('div', { class: 'field' }, h('label', { for: 'f-game-name', text: 'Game name' }), this.nameInput, h('p', { id: 'h-game-name', class: 'field-hint', text: 'Optional: shown with the code and in the open games list' }), this.nameError),
      h('div', { class: 'field' }, h('label', { class: 'check', for: 'f-listed' }, this.listedInput, h('span', { text: 'List this game in the open games' })), h('p', { id: 'h-listed', class: 'field-hint', text: 'Anyone can find a listed game and watch it; unlisted, only its code or link lead to it.' })),
    );
    // right after the preset: what the game is called comes before how it is played
    const preset = byId('f-preset').closest('.field');
    if (preset) preset.after(fields);
    else form.prepend(fields);
    this.nameInput.addEventListener('input', () => {
      if (this.nameInput.getAttribute('aria-invalid') === 'true') this.readCreate();
    });
  }

  /** On submit: whether the name is valid (the lobby part of the form). What it names is
   * sent once the game exists (afterCreate). */
  readCreate() {
    const result = checkName(this.nameInput.value);
    showError(this.nameError, result.error ?? '');
    this.nameInput.setAttribute('aria-invalid', result.error ? 'true' : 'false');
    if (result.error) {
      this.nameInput.focus();
      this.pending = null;
      return false;
    }
    this.pending = { name: result.name, listed: this.listedInput.checked };
    return true;
  }

  /** The game the form asked for exists and this socket hosts it: name and unlist it. */
  async afterCreate() {
    const want = this.pending;
    this.pending = null;
    if (want === null || this.gameId() === null) return;
    if (!want.listed) await this.act('setListed', { listed: false });
    if (want.name !== DEFAULT_NAME) await this.act('renameGame', { name: want.name });
  }

  // -- the open games on the home screen ----------------------------------------------------

  buildList() {
    this.refreshButton = h('button', { type: 'button', class: 'btn btn-small', id: 'btn-lobby-refresh' }, icon('reset'), h('span', { text: 'Refresh' }));
    this.listNode = h('ul', { id: 'lobby-list', class: 'lobby-list' });
    this.statusNode = h('p', { id: 'lobby-status', class: 'field-hint lobby-status', role: 'status' });
    this.listError = h('p', { id: 'lobby-error', class: 'form-error', role: 'alert', hidden: true });
    this.section = h(
      'section',
      { id: 'lobby', class: 'panel lobby', 'aria-labelledby': 'lobby-title', 'aria-busy': 'false' },
      h('div', { class: 'lobby-head' }, h('h2', { id: 'lobby-title', text: 'Open games' }), this.refreshButton),
      this.statusNode,
      this.listNode,
      this.listError,
    );
    const recent = byId('recent');
    recent.after(this.section);
    this.refreshButton.addEventListener('click', () => this.refresh());
    this.listNode.addEventListener('click', (e) => {
      const button = e.target instanceof Element ? e.target.closest('button[data-code]') : null;
      if (button) this.join(button.getAttribute('data-code'), this.listError);
    });
    // read while the home screen is in view, and only then
    const home = byId('home');
    new MutationObserver(() => this.sync()).observe(home, { attributes: true, attributeFilter: ['hidden'] });
    document.addEventListener('visibilitychange', () => this.sync());
    // after main.js has shown the first screen (a game link never shows the home screen)
    queueMicrotask(() => this.sync());
  }

  get listVisible() {
    return !byId('home').hidden && document.visibilityState === 'visible';
  }

  /** Starts or stops the periodic read as the home screen appears or goes. */
  sync() {
    if (!byId('home').hidden) {
      // the game left behind: the next one shows its own name, not this one's
      this.shown = { id: null, name: null };
      this.nameNode.textContent = '';
      this.nameNode.hidden = true;
    }
    const visible = this.listVisible;
    if (visible && this.timer === 0) {
      this.refresh();
      this.timer = setInterval(() => this.refresh(), REFRESH_MS);
    } else if (!visible && this.timer !== 0) {
      clearInterval(this.timer);
      this.timer = 0;
    }
  }

  async refresh() {
    if (this.loading) return;
    this.loading = true;
    this.section.setAttribute('aria-busy', 'true');
    this.refreshButton.disabled = true;
    if (this.listNode.childElementCount === 0) this.statusNode.textContent = 'Loading the open games…';
    try {
      const response = await fetch(`/api/games?limit=${LIST_LIMIT}`, { cache: 'no-store', headers: { Accept: 'application/json' } });
      if (response.status === 429) throw new Error('Too many requests from this network. Try again in a minute.');
      if (!response.ok) throw new Error(`The server answered ${response.status}.`);
      const body = await response.json();
      const games = Array.isArray(body?.games) ? body.games.map(entryOf).filter((g) => g !== null && g.status !== 'finished') : [];
      this.renderList(games);
      showError(this.listError, '');
    } catch (err) {
      const reason = err instanceof TypeError ? 'The server could not be reached.' : err.message;
      showError(this.listError, `Could not load the open games. ${reason}`);
      this.statusNode.textContent = this.listNode.childElementCount > 0 ? 'This list may be out of date.' : '';
    } finally {
      this.loading = false;
      this.section.setAttribute('aria-busy', 'false');
      this.refreshButton.disabled = false;
    }
  }

  renderList(games) {
    const now = this.clock.now();
    this.statusNode.textContent = games.length === 0 ? 'No open games right now. Create one, or join with a code.' : '';
    this.listNode.replaceChildren(
      ...games.map((g) =>
        h(
          'li',
          { class: 'lobby-item', 'data-game': g.id, 'data-status': g.status },
          h('span', { class: 'lobby-name', text: g.name }),
          h('span', { class: 'lobby-code', text: g.id }),
          h(
            'span',
            { class: 'lobby-meta' },
            h('span', { class: 'lobby-status-label', text: STATUS_LABEL[g.status] ?? g.status }),
            h('span', { class: 'lobby-seats', text: `${g.held}/${g.seats} seats` }),
            h('span', { class: 'lobby-mode', text: g.mode }),
            h('span', { class: 'lobby-ago', text: ago(now - g.lastActivity) }),
          ),
          h('button', { type: 'button', class: 'btn btn-small btn-primary', 'data-code': g.id, 'aria-label': `Join ${g.name} (${g.id})` }, h('span', { text: 'Join' })),
        ),
      ),
    );
  }

  // -- in the game --------------------------------------------------------------------------

  buildTitle() {
    this.nameNode = h('span', { id: 'game-name', class: 'game-name', hidden: true });
    byId('game-code').after(this.nameNode);
  }

  /** Puts the host's lobby actions in the table menu (More), with `place` from TableRules. */
  install(place) {
    this.renameButton = h('button', { type: 'button', class: 'btn', id: 'btn-rename-game', hidden: true }, icon('hash'), h('span', { text: 'Rename game' }));
    this.renameButton.addEventListener('click', () => this.openRename());
    place(this.renameButton);
    this.listedLabel = h('span', { text: 'Unlist from open games' });
    this.listedButton = h('button', { type: 'button', class: 'btn', id: 'btn-listed', hidden: true }, icon('link'), this.listedLabel);
    this.listedButton.addEventListener('click', () => this.toggleListed());
    place(this.listedButton);
    this.endButton = h('button', { type: 'button', class: 'btn btn-danger', id: 'btn-end-game', hidden: true }, icon('out'), h('span', { text: 'Delete game' }));
    this.endButton.addEventListener('click', () => this.confirmEnd());
    place(this.endButton);

    this.renameInput = h('input', { id: 'rename-input', type: 'text', maxlength: MAX_NAME, autocomplete: 'off', 'aria-describedby': 'rename-hint rename-error' });
    this.renameError = h('p', { id: 'rename-error', class: 'form-error', role: 'alert', hidden: true });
    const cancel = h('button', { type: 'button', class: 'btn', text: 'Cancel' });
    this.renameForm = h(
      'form',
      { class: 'dialog-body', novalidate: true },
      h('h2', { id: 'rename-title', text: 'Rename game' }),
      h('div', { class: 'field' }, h('label', { for: 'rename-input', text: 'Game name' }), this.renameInput, h('p', { id: 'rename-hint', class: 'field-hint', text: `Up to ${MAX_NAME} characters; everyone in the game sees it.` })),
      this.renameError,
      h('div', { class: 'dialog-actions' }, cancel, h('button', { type: 'submit', class: 'btn btn-primary', text: 'Save' })),
    );
    this.renameDialog = h('dialog', { id: 'dlg-rename', 'aria-labelledby': 'rename-title' }, this.renameForm);
    document.body.append(this.renameDialog);
    cancel.addEventListener('click', () => this.renameDialog.close());
    this.renameForm.addEventListener('submit', (e) => {
      e.preventDefault();
      this.rename();
    });
  }

  /** After every state of the game shown. */
  render(st, me) {
    const name = typeof st.name === 'string' && st.name !== '' ? st.name : DEFAULT_NAME;
    if (this.shown.id === st.id && this.shown.name !== null && this.shown.name !== name) announce(`The game is now called ${name}.`);
    this.shown = { id: st.id, name };
    this.nameNode.textContent = name;
    this.nameNode.hidden = name === DEFAULT_NAME;
    document.title = name === DEFAULT_NAME ? `${st.id} · Tap or Tarp` : `${name} · ${st.id} · Tap or Tarp`;
    if (this.renameButton === undefined) return;
    this.renameButton.hidden = !me.isHost;
    this.endButton.hidden = !me.isHost;
    this.listedButton.hidden = !me.isHost;
    const listed = st.listed !== false;
    this.listedLabel.textContent = listed ? 'Unlist from open games' : 'List in open games';
    this.listedButton.dataset.listed = listed ? 'true' : 'false';
    if (!me.isHost && this.renameDialog.open) this.renameDialog.close();
  }

  openRename() {
    const st = this.state();
    if (!st) return;
    this.renameInput.value = st.name && st.name !== DEFAULT_NAME ? st.name : '';
    this.renameInput.setAttribute('aria-invalid', 'false');
    flashError(this.renameError, '');
    this.dialogs.show(this.renameDialog);
  }

  async rename() {
    const result = checkName(this.renameInput.value);
    if (result.error) {
      this.renameInput.setAttribute('aria-invalid', 'true');
      flashError(this.renameError, result.error);
      return;
    }
    const buttons = this.renameForm.querySelectorAll('button');
    for (const b of buttons) b.disabled = true;
    try {
      if ((await this.act('renameGame', { name: result.name }, this.renameError)) !== null) this.renameDialog.close();
    } finally {
      for (const b of buttons) b.disabled = false;
    }
  }

  async toggleListed() {
    const st = this.state();
    if (!st) return;
    const listed = st.listed === false;
    if ((await this.act('setListed', { listed })) !== null) announce(listed ? 'The game is listed in the open games.' : 'The game is no longer listed. Its code still works.');
  }

  confirmEnd() {
    const st = this.state();
    if (!st) return;
    this.dialogs.ask(
      { title: `Delete ${label(st)}?`, message: 'The game ends for everyone now and cannot be brought back: every phone in it goes back to the home screen.', confirmLabel: 'Delete game' },
      () => {
        this.ending = st.id;
        this.act('endGame', {}).finally(() => (this.ending = null));
      },
    );
  }

  /** A frame main.js does not handle itself; true when it was this module's. */
  onFrame(msg) {
    if (msg.type === 'gameEnded') {
      const gid = msg.data.gameId;
      if (typeof gid !== 'string' || gid !== this.gameId()) return true;
      const st = this.state();
      const what = st && st.id === gid ? label(st) : `game ${gid}`;
      const mine = this.ending === gid;
      store.forgetGame(gid);
      // whatever of the game is open (the table menu, history, a confirm) goes with it: the
      // exit closes every dialog of the page
      this.exit(mine ? `You deleted ${what}.` : `The host deleted ${what}. It is gone, and no longer in your recent games.`);
      return true;
    }
    // the reply to our own rename: its state has already shown the new name
    return msg.type === 'gameRenamed';
  }
}

/** "game K7QX2M" or "Friday Commander (K7QX2M)". */
function label(st) {
  return st.name && st.name !== DEFAULT_NAME ? `${st.name} (${st.id})` : `game ${st.id}`;
}
