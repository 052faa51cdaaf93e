// History and undo: the game's log as a panel (`history`, older pages with `before`), the
// host's undo (the last action, or back to an entry), the toast that lets a player take back
// their own last action within the game's undo window, and the `undone` event shown to
// everyone. The server decides what can be undone; this only offers it where it would.

import { byId, h, icon } from './dom.js';
import { announce, flashError, showNotice } from './feedback.js';

/** The actions the server keeps on its undo stack (docs/protocol.md, History and undo). */
const UNDOABLE = new Set(['switch', 'passTurn', 'updatePlayer', 'addPenalty', 'eliminate', 'adminAddTime', 'adminKick', 'adminRevive', 'commanderDamage', 'concede']);
const DEFAULT_UNDO_WINDOW = 30_000;
const PAGE = 20;

const LABELS = {
  create: 'created the game',
  claim: 'took a seat',
  unclaim: 'left a seat',
  start: 'started the game',
  pause: 'paused or resumed',
  reset: 'reset the game',
  switch: 'passed the turn',
  passTurn: 'passed the turn',
  updatePlayer: 'changed a player',
  commanderDamage: 'dealt commander damage',
  addPenalty: 'gave a penalty',
  eliminate: 'eliminated a player',
  concede: 'conceded',
  adminAddTime: 'added time',
  adminKick: 'removed a player',
  adminRevive: 'revived a player',
  undo: 'undid',
  deadline: 'clock event',
  updateSettings: 'changed the settings',
  transferHost: 'handed over the host role',
  claimHost: 'took the host role',
  moveSeat: 'moved a seat',
  freeSeat: 'freed a seat',
  rollDice: 'rolled a die',
};

const FIELD_NAMES = {
  life: 'life',
  poison: 'poison',
  energy: 'energy',
  experience: 'experience',
  penalties: 'penalties',
  isEliminated: 'out',
  drunkCounter: 'drunk',
  genericCounter: 'counter',
};

/** What an undoable action would be called in the toast. */
function actionText(type, data, nameOf) {
  if (type === 'switch' || type === 'passTurn') return 'Turn passed';
  if (type === 'commanderDamage') return `${data.amount > 0 ? '+' : ''}${data.amount} commander damage to ${nameOf(data.playerId)}`;
  if (type === 'concede') return 'You conceded';
  if (type === 'updatePlayer') {
    const field = Object.keys(data).find((k) => FIELD_NAMES[k]);
    if (field) return `${nameOf(data.playerId)}'s ${FIELD_NAMES[field]} set to ${data[field]}`;
    if ('time' in data) return `${nameOf(data.playerId)}'s clock changed`;
    return null;
  }
  return LABELS[type] ? LABELS[type].charAt(0).toUpperCase() + LABELS[type].slice(1) : type;
}

function clockTime(ms) {
  const d = new Date(ms);
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
}

export class HistoryPanel {
  /**
   * @param {object} deps
   * @param {() => object | null} deps.state
   * @param {() => {isHost: boolean, seat: number | null}} deps.identity
   * @param {(type: string, data?: object, errorNode?: HTMLElement) => Promise<object | null>} deps.act
   * @param {import('./clock.js').ServerClock} deps.clock
   * @param {(button: HTMLElement) => void} deps.place  puts a button in the table menu
   * @param {(dialog: HTMLDialogElement) => void} deps.show  opens a dialog (dialogs.js's rules on focus)
   * @param {(question: {title: string, message: string, confirmLabel: string}, run: () => void) => void} deps.ask  dialogs.js's confirm
   */
  constructor({ state, identity, act, clock, place, show, ask }) {
    this.place = place;
    this.show = show;
    this.ask = ask;
    this.state = state;
    this.identity = identity;
    this.act = act;
    this.clock = clock;
    this.entries = [];
    this.next = null;
    this.loadedAt = -1;
    this.toastTimer = 0;
    this.build();
  }

  build() {
    this.list = h('ol', { class: 'history-list' });
    this.error = h('p', { class: 'form-error', role: 'alert', hidden: true });
    this.empty = h('p', { class: 'field-hint', text: 'Nothing has happened yet.', hidden: true });
    this.more = h('button', { type: 'button', class: 'btn', text: 'Older' });
    this.undoLast = h('button', { type: 'button', class: 'btn btn-danger', id: 'history-undo' }, icon('reset'), h('span', { text: 'Undo last action' }));
    const close = h('button', { type: 'button', class: 'btn', text: 'Close' });
    this.dialog = h(
      'dialog',
      { id: 'dlg-history', class: 'dlg-wide', 'aria-labelledby': 'history-title' },
      h('div', { class: 'dialog-body' }, h('h2', { id: 'history-title', text: 'History' }), this.undoLast, this.error, this.empty, this.list, h('div', { class: 'dialog-actions' }, this.more, close)),
    );
    document.body.append(this.dialog);
    close.addEventListener('click', () => this.dialog.close());
    this.more.addEventListener('click', () => this.load(this.next));
    this.undoLast.addEventListener('click', () => this.undo(1, this.error));
    this.list.addEventListener('click', (e) => {
      const button = e.target instanceof Element ? e.target.closest('button[data-count]') : null;
      if (button) this.undoBackTo(Number(button.dataset.count), button.closest('.history-entry'));
    });

    this.button = h('button', { type: 'button', class: 'btn', id: 'btn-history' }, icon('history'), h('span', { text: 'History' }));
    this.button.addEventListener('click', () => this.open());
    this.place(this.button);
    // the host's undo, two taps away (the history shows what it was, and undoes further back)
    this.menuUndo = h('button', { type: 'button', class: 'btn btn-danger', id: 'menu-undo', hidden: true }, icon('reset'), h('span', { text: 'Undo last action' }));
    this.menuUndo.addEventListener('click', () => this.undo(1, byId('game-error')));
    this.place(this.menuUndo);

    this.toastText = h('span', { class: 'toast-text' });
    this.toastUndo = h('button', { type: 'button', class: 'btn btn-small btn-primary', id: 'toast-undo', text: 'Undo' });
    this.toast = h('div', { class: 'undo-toast', id: 'undo-toast', role: 'status', hidden: true }, this.toastText, this.toastUndo);
    this.toastUndo.addEventListener('click', async () => {
      const ok = await this.undo(1, byId('game-error'));
      if (ok) this.hideToast();
    });
    // a row of the controls bar itself: it never covers a control
    byId('btn-start').parentElement.prepend(this.toast);
  }

  nameOf(pid) {
    return this.state()?.players.find((p) => p.id === pid)?.name ?? `Player ${pid}`;
  }

  whoOf(entry) {
    if (Number.isInteger(entry.playerId)) return this.nameOf(entry.playerId) + (entry.host ? ' (host)' : '');
    if (entry.host) return 'Host';
    return entry.type === 'deadline' ? 'Clock' : 'Someone';
  }

  changesOf(entry) {
    const out = [];
    const before = entry.before ?? {};
    const after = entry.after ?? {};
    const was = new Map((before.players ?? []).map((p) => [p.id, p]));
    for (const p of after.players ?? []) {
      for (const [field, name] of Object.entries(FIELD_NAMES)) {
        if (!(field in p)) continue;
        const old = was.get(p.id)?.[field];
        if (field === 'isEliminated') out.push(`${this.nameOf(p.id)} ${p[field] ? 'out' : 'back in'}${p.eliminatedReason ? ` (${p.eliminatedReason})` : ''}`);
        else out.push(`${this.nameOf(p.id)} ${name} ${old ?? '?'} → ${p[field]}`);
      }
      if (Array.isArray(p.commanderDamage)) out.push(`${this.nameOf(p.id)} commander damage`);
    }
    if ('activePlayer' in after && after.activePlayer !== null) out.push(`turn: ${this.nameOf(after.activePlayer)}`);
    if ('winner' in after && after.winner !== null) out.push(`winner: ${this.nameOf(after.winner)}`);
    return out.join(', ');
  }

  render() {
    const me = this.identity();
    let undoable = 0;
    this.list.replaceChildren(
      ...this.entries.map((entry) => {
        const li = h(
          'li',
          { class: 'history-entry', 'data-type': String(entry.type), 'data-version': entry.version },
          h('span', { class: 'history-time', text: clockTime(entry.at) }),
          h('span', { class: 'history-what' }, h('strong', { text: this.whoOf(entry) }), h('span', { text: ` ${LABELS[entry.type] ?? entry.type}` })),
        );
        const changes = this.changesOf(entry);
        if (changes) li.append(h('span', { class: 'history-changes', text: changes }));
        if (entry.undoable) {
          undoable += 1;
          if (me.isHost) li.append(h('button', { type: 'button', class: 'btn btn-small', 'data-count': undoable, text: undoable === 1 ? 'Undo this' : `Undo back to here (${undoable})` }));
        }
        return li;
      }),
    );
    this.empty.hidden = this.entries.length > 0;
    this.more.hidden = this.next === null;
    this.undoLast.hidden = !me.isHost;
    this.undoLast.disabled = this.state()?.undoDepth === 0 || !this.entries.some((e) => e.undoable);
  }

  async load(before = null) {
    const data = { limit: PAGE };
    if (before !== null) data.before = before;
    const reply = await this.act('history', data, this.error);
    if (reply === null) return;
    const entries = Array.isArray(reply.data?.entries) ? reply.data.entries : [];
    this.entries = before === null ? entries : [...this.entries, ...entries];
    this.next = Number.isInteger(reply.data?.next) ? reply.data.next : null;
    this.loadedAt = this.state()?.version ?? -1;
    this.render();
  }

  open() {
    this.entries = [];
    this.next = null;
    this.render();
    this.show(this.dialog);
    this.load();
  }

  /** Several actions at once go only once the host has seen how many, and back to what. */
  undoBackTo(count, li) {
    if (count <= 1) {
      this.undo(1, this.error);
      return;
    }
    const what = li?.querySelector('.history-what')?.textContent ?? '';
    const at = li?.querySelector('.history-time')?.textContent ?? '';
    this.ask(
      {
        title: `Undo the last ${count} actions?`,
        message: `Everyone's game goes back to before “${what}”${at ? ` (${at})` : ''}: the ${count} actions that can be undone since then, that one included, are taken back.`,
        confirmLabel: `Undo ${count} actions`,
      },
      () => this.undo(count, this.error),
    );
  }

  async undo(count, errorNode) {
    const reply = await this.act('undo', count > 1 ? { count } : {}, errorNode);
    if (reply !== null && this.dialog.open) this.load();
    return reply !== null;
  }

  /** After every state: an open panel follows the game. */
  refresh(state) {
    if (this.dialog.open && state.version !== this.loadedAt) this.load();
    this.button.hidden = state === null;
    // undoDepth: what the undo stack holds (a server without it: offered as before)
    this.menuUndo.hidden = !this.identity().isHost || state?.undoDepth === 0;
  }

  /** A reply to one of this browser's own actions: offer to take it back. */
  offer(type, data, reply) {
    const st = this.state();
    const me = this.identity();
    if (!st || !UNDOABLE.has(type) || (me.seat === null && !me.isHost)) return;
    const text = actionText(type, data, (pid) => this.nameOf(pid));
    if (text === null) return;
    const window = Number.isInteger(st.settings?.undoWindow) ? st.settings.undoWindow : DEFAULT_UNDO_WINDOW;
    if (window === 0 && !me.isHost) return;
    this.toastText.textContent = text;
    this.toast.hidden = false;
    this.toast.dataset.version = String(reply?.data?.version ?? '');
    clearTimeout(this.toastTimer);
    this.toastTimer = setTimeout(() => this.hideToast(), window === 0 ? DEFAULT_UNDO_WINDOW : window);
  }

  hideToast() {
    clearTimeout(this.toastTimer);
    this.toast.hidden = true;
  }

  /** The `undone` event, to everyone. */
  onUndone(d) {
    const n = Array.isArray(d.versions) ? d.versions.length : 1;
    const who = Number.isInteger(d.by) ? this.nameOf(d.by) + (d.host ? ' (host)' : '') : 'The host';
    const text = `${who} undid ${n === 1 ? 'the last action' : `the last ${n} actions`}.`;
    showNotice('undo', text);
    announce(text);
    this.hideToast();
  }

  reset() {
    this.hideToast();
    if (this.dialog.open) this.dialog.close();
    flashError(this.error, '');
  }
}
