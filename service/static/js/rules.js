// The table's rules in the players' hands: the create form's format, life, loss rules, time
// control and undo window (added to the form, sent in `create`'s settings), and the host's
// "Table rules" dialog, which changes them with `updateSettings` (the format and the time
// control only while the game waits: the server refuses them later).

import { byId, h, icon } from './dom.js';
import { flashError } from './feedback.js';
import { DEFAULT_HOST_TIMEOUT, DEFAULT_UNDO_WINDOW, FORMATS, RulesFields } from './rules-form.js';
import { TIMEOUT_DEFAULTS, TimeoutFields } from './timeout-form.js';

/** The timeout choice's settings, which only a game with the choice has (HEAD's). */
const TIMEOUT_KEYS = Object.keys(TIMEOUT_DEFAULTS);

function hasTimeoutChoice(settings) {
  return TIMEOUT_KEYS.every((key) => Number.isFinite(settings?.[key]));
}

export class CreateRules {
  constructor() {
    this.fields = new RulesFields('f-rules');
    const box = h('details', { class: 'rules-create', id: 'rules-create' }, h('summary', { text: 'Format, time control and undo', 'aria-label': 'Format, time control and undo' }), this.fields.root);
    byId('create-error').before(box);
    this.box = box;
  }

  /** The rules to add to `settings` (with its playerCount), or null after showing why not. */
  read(settings) {
    const result = this.fields.read(settings.playerCount);
    if (result.errors) {
      this.box.open = true;
      return null;
    }
    return minimal(result.settings);
  }
}

/** Only what differs from what the server would pick anyway: a create that names no rule
 * stays the plain create every client sends (standard, sudden death, the defaults). */
function minimal(rules) {
  const out = { ...rules };
  const format = FORMATS[rules.format];
  if (rules.startingLife === format.life) delete out.startingLife;
  if (Object.entries(format.rules).every(([rule, on]) => rules.lossRules[rule] === on)) delete out.lossRules;
  if (rules.format === 'standard') delete out.format;
  if (rules.timeControl === 'suddenDeath') delete out.timeControl;
  if (rules.undoWindow === DEFAULT_UNDO_WINDOW) delete out.undoWindow;
  if (rules.hostTimeout === DEFAULT_HOST_TIMEOUT) delete out.hostTimeout;
  return out;
}

export class RulesDialog {
  /**
   * @param {object} deps
   * @param {() => object | null} deps.state
   * @param {(type: string, data?: object, errorNode?: HTMLElement) => Promise<object | null>} deps.act
   * @param {(button: HTMLElement) => void} deps.place  puts a button in the table menu
   * @param {(dialog: HTMLDialogElement) => void} deps.show  opens a dialog (dialogs.js's rules on focus)
   */
  constructor({ state, act, place, show }) {
    this.show = show;
    this.state = state;
    this.act = act;
    this.fields = new RulesFields('r-rules');
    // a game with the timeout choice: its lives, drunk, grace, clock after and turn bonus
    // (the create form's fields and bounds; whether a game has the choice is fixed)
    this.timeout = new TimeoutFields('r-timeout', { switchable: false });
    this.timeoutBox = h('fieldset', { class: 'rules-timeout', id: 'rules-timeout', hidden: true }, h('legend', { text: 'Timeout choice and turn bonus' }), this.timeout.root);
    this.hint = h('p', { class: 'field-hint', id: 'rules-hint' });
    this.error = h('p', { class: 'form-error', role: 'alert', id: 'rules-error', hidden: true });
    const cancel = h('button', { type: 'button', class: 'btn', text: 'Cancel' });
    const save = h('button', { type: 'submit', class: 'btn btn-primary', text: 'Save' });
    this.form = h('form', { class: 'dialog-body', novalidate: true }, h('h2', { id: 'rules-title', text: 'Table rules' }), this.hint, this.fields.root, this.timeoutBox, this.error, h('div', { class: 'dialog-actions' }, cancel, save));
    this.dialog = h('dialog', { id: 'dlg-rules', 'aria-labelledby': 'rules-title' }, this.form);
    document.body.append(this.dialog);
    cancel.addEventListener('click', () => this.dialog.close());
    this.form.addEventListener('submit', (e) => {
      e.preventDefault();
      this.save();
    });
    this.button = h('button', { type: 'button', class: 'btn', id: 'btn-rules' }, icon('sliders'), h('span', { text: 'Table rules' }));
    this.button.addEventListener('click', () => this.open());
    place(this.button);
  }

  open() {
    const st = this.state();
    if (!st) return;
    this.waiting = st.status === 'waiting';
    this.fields.fill(st.settings ?? {});
    this.fields.lockFormat(!this.waiting);
    this.withTimeout = hasTimeoutChoice(st.settings);
    this.timeoutBox.hidden = !this.withTimeout;
    if (this.withTimeout) this.timeout.fill(st.settings);
    // what the form shows now: a save sends only what the host changed from it (a game
    // created with the defaults has some settings only as the form's defaults)
    this.baseline = this.read(st);
    this.hint.textContent = this.waiting ? 'A new format or starting life puts every player at that life.' : 'The format and the time control change only while the game waits: reset the game to change them.';
    flashError(this.error, '');
    this.show(this.dialog);
  }

  /** The dialog's settings as filled in, or null when a field does not read back. */
  read(st) {
    const result = this.fields.read(st.settings.playerCount, this.waiting);
    const timeout = this.withTimeout ? this.timeout.read() : { settings: {} };
    return result.errors || timeout.errors ? null : { ...result.settings, ...timeout.settings };
  }

  /** Only what changed is sent, so a running game's undo window can change alone. */
  async save() {
    const st = this.state();
    if (!st) return;
    const result = this.fields.read(st.settings.playerCount, this.waiting);
    const timeout = this.withTimeout ? this.timeout.read() : { settings: {} };
    if (result.errors || timeout.errors) return;
    const update = {};
    const was = this.baseline ?? st.settings;
    for (const [key, value] of Object.entries({ ...result.settings, ...timeout.settings })) {
      if (JSON.stringify(was[key]) !== JSON.stringify(value)) update[key] = value;
    }
    // the control is sent whole when any part of it changed
    if (this.waiting && ('timeControlMs' in update || 'turnCapWarningMs' in update || 'timeControl' in update)) {
      update.timeControl = result.settings.timeControl;
      if ('timeControlMs' in result.settings) update.timeControlMs = result.settings.timeControlMs;
      if ('turnCapWarningMs' in result.settings) update.turnCapWarningMs = result.settings.turnCapWarningMs;
    }
    if (Object.keys(update).length === 0) {
      this.dialog.close();
      return;
    }
    const buttons = this.form.querySelectorAll('button');
    for (const b of buttons) b.disabled = true;
    try {
      if ((await this.act('updateSettings', update, this.error)) !== null) this.dialog.close();
    } finally {
      for (const b of buttons) b.disabled = false;
    }
  }
}
