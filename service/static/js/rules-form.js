// The table's rules as fields: format, starting life, the three loss rules, the time
// control (with the turn cap's warning) and the undo window. The create form and the
// host's "Table rules" dialog build the same fields here; the server's bounds
// (docs/protocol.md, `create`) are mirrored so a wrong value is explained next to its field.

import { h, showError } from './dom.js';
import { formatDuration, parseDuration } from './settings.js';

export const FORMATS = {
  standard: { label: 'Standard', life: 20, rules: { life: true, poison: true, commanderDamage: false } },
  commander: { label: 'Commander', life: 40, rules: { life: true, poison: true, commanderDamage: true } },
  twoHeadedGiant: { label: 'Two-headed giant', life: 30, rules: { life: true, poison: true, commanderDamage: false } },
  brawl: { label: 'Brawl', life: 25, rules: { life: true, poison: true, commanderDamage: false } },
  custom: { label: 'Custom', life: 20, rules: { life: true, poison: true, commanderDamage: false } },
};

export const TIME_CONTROLS = {
  suddenDeath: { label: 'Sudden death', amount: null },
  fischer: { label: 'Fischer (increment per pass)', amount: 'Increment' },
  bronstein: { label: 'Bronstein (free time per turn)', amount: 'Delay' },
  turnCap: { label: 'Turn cap (turn passes by itself)', amount: 'Turn cap' },
};

const LOSS_RULES = [
  ['life', 'Life at 0 loses'],
  ['poison', 'Poison at the limit loses'],
  ['commanderDamage', '21 commander damage loses'],
];

export const LOSS_REASONS = {
  life: 'life',
  poison: 'poison',
  commanderDamage: 'commander damage',
  concede: 'conceded',
  timeout: 'timeout',
  penalty: 'penalty',
  host: 'the host',
  kicked: 'kicked',
};

export const DEFAULT_UNDO_WINDOW = 30_000;
const MAX_UNDO_WINDOW = 300_000;
const MIN_CONTROL_MS = 1_000;
export const DEFAULT_HOST_TIMEOUT = 120_000;
const MIN_HOST_TIMEOUT = 10_000;
const MAX_HOST_TIMEOUT = 3_600_000;
const MAX_CONTROL_MS = 3_600_000;

function field(id, label, input, hint) {
  const error = h('p', { class: 'field-error', id: `${id}-error`, 'data-error-for': input.name, hidden: true });
  const hintNode = hint ? h('p', { class: 'field-hint', id: `${id}-hint`, text: hint }) : null;
  input.id = id;
  input.setAttribute('aria-describedby', [hintNode ? `${id}-hint` : null, `${id}-error`].filter(Boolean).join(' '));
  return { root: h('div', { class: 'field' }, h('label', { for: id, text: label }), input, hintNode, error), error, hint: hintNode };
}

function select(name, options) {
  return h('select', { name }, ...Object.entries(options).map(([value, spec]) => h('option', { value, text: spec.label })));
}

function textInput(name) {
  return h('input', { name, type: 'text', inputmode: 'decimal', autocomplete: 'off' });
}

/** The fields, under `prefix` ids; `read(playerCount)` -> {settings} | {errors}. */
export class RulesFields {
  constructor(prefix) {
    this.format = select('format', FORMATS);
    this.life = h('input', { name: 'startingLife', type: 'number', inputmode: 'numeric', min: 1, max: 9999, step: 1 });
    this.control = select('timeControl', TIME_CONTROLS);
    this.amount = textInput('timeControlMs');
    this.capWarning = textInput('turnCapWarningMs');
    this.undo = textInput('undoWindow');
    this.hostTimeout = textInput('hostTimeout');
    this.checks = {};
    const checkRows = LOSS_RULES.map(([rule, text]) => {
      const box = h('input', { type: 'checkbox', name: `loss-${rule}`, id: `${prefix}-loss-${rule}` });
      this.checks[rule] = box;
      return h('label', { class: 'check', for: box.id }, box, h('span', { text }));
    });
    this.fields = {
      format: field(`${prefix}-format`, 'Format', this.format),
      life: field(`${prefix}-life`, 'Starting life', this.life),
      control: field(`${prefix}-control`, 'Time control', this.control),
      amount: field(`${prefix}-amount`, 'Increment', this.amount, 'Seconds (30s) or minutes (1)'),
      capWarning: field(`${prefix}-cap-warning`, 'Warn before the cap', this.capWarning, '0 for no warning'),
      undo: field(`${prefix}-undo`, 'Undo window', this.undo, 'How long a player may undo their own action; 0: only the host'),
      hostTimeout: field(`${prefix}-host-timeout`, 'Host away for', this.hostTimeout, 'Then a seated player may take the host role'),
    };
    this.lossError = h('p', { class: 'field-error', 'data-error-for': 'lossRules', hidden: true });
    const loss = h('fieldset', { class: 'loss-rules' }, h('legend', { text: 'Loss rules' }), ...checkRows, this.lossError);
    this.root = h(
      'div',
      { class: 'rules-fields' },
      h('div', { class: 'field-row' }, this.fields.format.root, this.fields.life.root),
      loss,
      h('div', { class: 'field-row' }, this.fields.control.root, this.fields.amount.root),
      this.fields.capWarning.root,
      h('div', { class: 'field-row' }, this.fields.undo.root, this.fields.hostTimeout.root),
    );
    this.format.addEventListener('change', () => this.applyFormat(this.format.value));
    this.control.addEventListener('change', () => this.sync());
    this.fill({});
  }

  applyFormat(format) {
    const spec = FORMATS[format] ?? FORMATS.standard;
    this.life.value = String(spec.life);
    for (const [rule, box] of Object.entries(this.checks)) box.checked = spec.rules[rule];
  }

  /** Pre-fills from a game's settings (or the defaults for missing ones). */
  fill(settings) {
    const format = FORMATS[settings.format] ? settings.format : 'standard';
    this.format.value = format;
    this.applyFormat(format);
    if (Number.isInteger(settings.startingLife)) this.life.value = String(settings.startingLife);
    if (settings.lossRules) for (const [rule, box] of Object.entries(this.checks)) box.checked = settings.lossRules[rule] === true;
    this.control.value = TIME_CONTROLS[settings.timeControl] ? settings.timeControl : 'suddenDeath';
    this.amount.value = formatDuration(settings.timeControlMs ?? 30_000);
    this.capWarning.value = formatDuration(settings.turnCapWarningMs ?? 10_000);
    this.undo.value = formatDuration(settings.undoWindow ?? DEFAULT_UNDO_WINDOW);
    this.hostTimeout.value = formatDuration(settings.hostTimeout ?? DEFAULT_HOST_TIMEOUT);
    this.showErrors({});
    this.sync();
  }

  sync() {
    const spec = TIME_CONTROLS[this.control.value];
    this.fields.amount.root.hidden = spec.amount === null;
    this.fields.amount.root.querySelector('label').textContent = spec.amount ?? 'Amount';
    this.fields.capWarning.root.hidden = this.control.value !== 'turnCap';
  }

  /** Whether the format and time control may change (only while the game waits). */
  lockFormat(locked) {
    for (const node of [this.format, this.life, this.control, this.amount, this.capWarning, ...Object.values(this.checks)]) node.disabled = locked;
  }

  showErrors(errors) {
    for (const node of this.root.querySelectorAll('[data-error-for]')) {
      const name = node.getAttribute('data-error-for');
      showError(node, errors[name] ?? '');
      const input = this.root.querySelector(`[name="${name}"]`);
      if (input) input.setAttribute('aria-invalid', errors[name] ? 'true' : 'false');
    }
  }

  /** The settings to send, or {errors}; `formatToo` false leaves out what is locked. */
  read(playerCount, formatToo = true) {
    const errors = {};
    const settings = {};
    const undo = parseDuration(this.undo.value);
    if (Number.isNaN(undo) || undo < 0 || undo > MAX_UNDO_WINDOW) errors.undoWindow = 'Between 0 and 5 minutes (e.g. 30s).';
    else settings.undoWindow = undo;
    const away = parseDuration(this.hostTimeout.value);
    if (Number.isNaN(away) || away < MIN_HOST_TIMEOUT || away > MAX_HOST_TIMEOUT) errors.hostTimeout = 'Between 10 seconds and 60 minutes.';
    else settings.hostTimeout = away;
    if (formatToo) {
      const format = this.format.value;
      settings.format = format;
      if (format === 'twoHeadedGiant' && ![4, 6, 8].includes(playerCount)) errors.format = 'Two-headed giant needs 4, 6 or 8 players.';
      const life = Number(this.life.value);
      if (!Number.isInteger(life) || life < 1 || life > 9999) errors.startingLife = 'Starting life is 1 to 9999.';
      else settings.startingLife = life;
      settings.lossRules = Object.fromEntries(Object.entries(this.checks).map(([rule, box]) => [rule, box.checked]));
      const control = this.control.value;
      settings.timeControl = control;
      if (control !== 'suddenDeath') {
        const ms = parseDuration(this.amount.value);
        if (Number.isNaN(ms) || ms < MIN_CONTROL_MS || ms > MAX_CONTROL_MS) errors.timeControlMs = 'Between 1 second and 60 minutes (e.g. 30s).';
        else settings.timeControlMs = ms;
        if (control === 'turnCap' && settings.timeControlMs !== undefined) {
          const warn = parseDuration(this.capWarning.value);
          if (Number.isNaN(warn) || warn < 0 || warn >= settings.timeControlMs) errors.turnCapWarningMs = 'From 0 to less than the cap.';
          else settings.turnCapWarningMs = warn;
        }
      }
    }
    this.showErrors(errors);
    return Object.keys(errors).length > 0 ? { errors } : { settings };
  }
}

/** One line about a game's rules, for the settings hint and the header. */
export function rulesLine(settings) {
  const format = FORMATS[settings.format]?.label ?? 'Standard';
  const control = settings.timeControl && settings.timeControl !== 'suddenDeath' ? ` · ${TIME_CONTROLS[settings.timeControl].amount} ${formatDuration(settings.timeControlMs)}` : '';
  return `${format} · ${settings.startingLife ?? 20} life${control}`;
}
