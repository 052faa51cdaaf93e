// The create form remembers, on this device: the settings of the last game created (filled
// in on the next visit) and named presets ("Friday Commander") to pick from. What is kept is
// the form's own fields by name, as typed, so any field the form gains is remembered too and
// the form still validates whatever comes back. Storage may be full, disabled or edited by
// hand: every read is checked and a failed write only means nothing is remembered.

import { byId, h, showError } from './dom.js';

const LAST_KEY = 'tapotarp.lastSettings.v1';
const PRESETS_KEY = 'tapotarp.presets.v1';
const MAX_PRESETS = 20;
const MAX_NAME = 30;
const MAX_VALUE = 200;

function read(key) {
  try {
    const parsed = JSON.parse(localStorage.getItem(key) ?? 'null');
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? parsed : null;
  } catch {
    return null;
  }
}

function write(key, value) {
  try {
    localStorage.setItem(key, JSON.stringify(value));
    return true;
  } catch {
    return false;
  }
}

/** A stored set of values: only strings and booleans, short ones. */
function cleanValues(raw) {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return null;
  const out = {};
  for (const [k, v] of Object.entries(raw)) {
    if ((typeof v === 'string' && v.length <= MAX_VALUE) || typeof v === 'boolean') out[k] = v;
  }
  return Object.keys(out).length > 0 ? out : null;
}

function fields(form) {
  return [...form.elements].filter((el) => el.name && (el instanceof HTMLInputElement || el instanceof HTMLSelectElement || el instanceof HTMLTextAreaElement));
}

/** The form's values by field name. */
export function valuesOf(form) {
  const out = {};
  for (const el of fields(form)) out[el.name] = el instanceof HTMLInputElement && el.type === 'checkbox' ? el.checked : el.value;
  return out;
}

/** Puts `values` back into the form (unknown names and impossible options skipped) and
 * lets the form react as if typed (dependent rows shown or hidden). */
export function applyValues(form, values) {
  for (const el of fields(form)) {
    if (!(el.name in values)) continue;
    const v = values[el.name];
    if (el instanceof HTMLInputElement && el.type === 'checkbox') el.checked = v === true;
    else if (el instanceof HTMLSelectElement && ![...el.options].some((o) => o.value === v)) continue;
    else el.value = String(v);
    el.dispatchEvent(new Event('change', { bubbles: true }));
  }
}

/** The last created game's form values (what the constructor below put back). */
export function lastValues() {
  return cleanValues(read(LAST_KEY)) ?? {};
}

export function loadPresets() {
  const raw = read(PRESETS_KEY) ?? {};
  const out = {};
  for (const [name, values] of Object.entries(raw)) {
    const clean = cleanValues(values);
    if (clean && name.trim() !== '' && name.length <= MAX_NAME) out[name] = clean;
  }
  return out;
}

export class Presets {
  /**
   * @param {HTMLFormElement} form  the create form (home.js has filled in its defaults)
   * @param {(question: {title: string, message: string, confirmLabel: string}, run: () => void) => void} ask
   *   asks before a preset is deleted
   */
  constructor(form, ask) {
    this.form = form;
    this.ask = ask;
    this.select = byId('f-preset');
    this.nameInput = byId('f-preset-name');
    this.status = byId('preset-status');
    const last = cleanValues(read(LAST_KEY));
    if (last) applyValues(form, last);
    this.renderList('');
    this.select.addEventListener('change', () => {
      const chosen = loadPresets()[this.select.value];
      if (chosen) {
        applyValues(form, chosen);
        this.nameInput.value = this.select.value;
      }
      this.syncDelete();
    });
    byId('btn-preset-save').addEventListener('click', () => this.save());
    this.nameInput.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') {
        e.preventDefault();
        this.save();
      }
    });
    byId('btn-preset-delete').addEventListener('click', () => {
      const name = this.select.value;
      if (name !== '') this.ask({ title: `Delete the preset “${name}”?`, message: 'Its settings are forgotten on this device.', confirmLabel: 'Delete' }, () => this.remove(name));
    });
  }

  /** After a game was created from the form: its settings are the next visit's. */
  rememberLast() {
    write(LAST_KEY, valuesOf(this.form));
  }

  renderList(selected) {
    const names = Object.keys(loadPresets()).sort((a, b) => a.localeCompare(b));
    this.select.replaceChildren(h('option', { value: '', text: names.length > 0 ? 'Choose a preset…' : 'No presets yet' }), ...names.map((n) => h('option', { value: n, text: n })));
    this.select.value = names.includes(selected) ? selected : '';
    this.select.disabled = names.length === 0;
    this.syncDelete();
  }

  syncDelete() {
    byId('btn-preset-delete').hidden = this.select.value === '';
  }

  save() {
    const name = this.nameInput.value.trim().slice(0, MAX_NAME);
    if (name === '') {
      showError(this.status, 'Give the preset a name first.');
      this.nameInput.focus();
      return;
    }
    const presets = loadPresets();
    if (!(name in presets) && Object.keys(presets).length >= MAX_PRESETS) {
      showError(this.status, `At most ${MAX_PRESETS} presets: delete one first.`);
      return;
    }
    presets[name] = valuesOf(this.form);
    const ok = write(PRESETS_KEY, presets);
    this.renderList(name);
    showError(this.status, ok ? `Saved “${name}”.` : 'This browser does not let the page store anything.');
  }

  remove(name) {
    const presets = loadPresets();
    if (!(name in presets)) return;
    delete presets[name];
    write(PRESETS_KEY, presets);
    this.renderList('');
    showError(this.status, `Deleted “${name}”.`);
  }
}
