// The create form's "Timeout choice and turn bonus" section (HEAD's rules): when a clock runs
// out the player chooses to lose lives, gain drunk or die within a grace period, and a turn
// pass adds a bonus to the next player's clock. The server's bounds (docs/protocol.md,
// `create`; service/protocol.py TIMEOUT_SETTINGS) are mirrored so a wrong value is explained
// next to its field, as rules-form.js does for the table's rules.
//
// The server turns both on together: a create naming any HEAD setting gets the choice and
// the bonus (HEAD's 30 s unless `bonusTime` is named). So the section is one switch, and
// when it is on every one of its five settings is sent, `bonusTime` 0 included: nothing is
// left to a default the person did not see. A time control is no HEAD setting; with the
// switch on its increment or delay adds up with the turn bonus.

import { byId, h, showError } from './dom.js';
import { formatDuration, parseDuration } from './settings.js';

export const TIMEOUT_DEFAULTS = Object.freeze({
  bonusTime: 30_000,
  timeoutPenaltyLives: 2,
  timeoutPenaltyDrunk: 2,
  timeoutGracePeriod: 30_000,
  timeoutBonusTime: 60_000,
});

const MAX_BONUS = 300_000;
const MIN_GRACE = 5_000;
const MAX_GRACE = 300_000;
const MAX_PENALTY = 20;

function field(id, label, input, hint) {
  const error = h('p', { class: 'field-error', id: `${id}-error`, 'data-error-for': input.name, hidden: true });
  const hintNode = h('p', { class: 'field-hint', id: `${id}-hint`, text: hint });
  input.id = id;
  input.setAttribute('aria-describedby', `${id}-hint ${id}-error`);
  return { root: h('div', { class: 'field' }, h('label', { for: id, text: label }), input, hintNode, error), error };
}

function durationInput(name) {
  return h('input', { name, type: 'text', inputmode: 'decimal', autocomplete: 'off' });
}

function countInput(name) {
  return h('input', { name, type: 'number', inputmode: 'numeric', min: 0, max: MAX_PENALTY, step: 1 });
}

/** The section's fields under `prefix` ids; `read()` -> {settings} | {errors} | {off}.
 * `switchable` false: no switch, the fields always on (a game that has the choice already:
 * the host's Table rules change its settings, the choice itself stays). */
export class TimeoutFields {
  constructor(prefix, { switchable = true } = {}) {
    this.on = h('input', { type: 'checkbox', name: 'timeoutChoiceOn', id: `${prefix}-on` });
    this.lives = countInput('timeoutPenaltyLives');
    this.drunk = countInput('timeoutPenaltyDrunk');
    this.grace = durationInput('timeoutGracePeriod');
    this.after = durationInput('timeoutBonusTime');
    this.bonus = durationInput('bonusTime');
    this.fields = {
      lives: field(`${prefix}-lives`, 'Lives lost', this.lives, '0 to 20'),
      drunk: field(`${prefix}-drunk`, 'Drunk gained', this.drunk, '0 to 20'),
      grace: field(`${prefix}-grace`, 'Time to choose', this.grace, '5 seconds to 5 minutes (30s); then the player dies'),
      after: field(`${prefix}-after`, 'Clock after the choice', this.after, '0 to 5 minutes (1 = a minute)'),
      bonus: field(`${prefix}-bonus`, 'Turn bonus', this.bonus, 'Added to the next player’s clock on each pass: 0 to 5 minutes (30s); adds up with a time control'),
    };
    this.detail = h(
      'div',
      { class: 'rules-fields' },
      h('div', { class: 'field-row' }, this.fields.lives.root, this.fields.drunk.root),
      h('div', { class: 'field-row' }, this.fields.grace.root, this.fields.after.root),
      this.fields.bonus.root,
    );
    const label = h('label', { class: 'check', for: this.on.id }, this.on, h('span', { text: 'When a clock runs out, its player chooses: lose lives, gain drunk or die (the game keeps running, instead of pausing for the penalty)' }));
    this.root = h('div', { class: 'rules-fields' }, switchable ? label : null, this.detail);
    this.on.addEventListener('change', () => this.sync());
    this.fill(TIMEOUT_DEFAULTS);
    this.on.checked = !switchable;
    this.sync();
  }

  fill(s) {
    this.lives.value = String(s.timeoutPenaltyLives);
    this.drunk.value = String(s.timeoutPenaltyDrunk);
    this.grace.value = formatDuration(s.timeoutGracePeriod);
    this.after.value = formatDuration(s.timeoutBonusTime);
    this.bonus.value = formatDuration(s.bonusTime);
  }

  sync() {
    this.detail.hidden = !this.on.checked;
    for (const input of [this.lives, this.drunk, this.grace, this.after, this.bonus]) input.disabled = !this.on.checked;
  }

  showErrors(errors) {
    for (const node of this.root.querySelectorAll('[data-error-for]')) {
      const name = node.getAttribute('data-error-for');
      showError(node, errors[name] ?? '');
      this.root.querySelector(`[name="${name}"]`)?.setAttribute('aria-invalid', errors[name] ? 'true' : 'false');
    }
  }

  read() {
    if (!this.on.checked) {
      this.showErrors({});
      return { off: true };
    }
    const errors = {};
    const settings = {};
    for (const [name, input] of [['timeoutPenaltyLives', this.lives], ['timeoutPenaltyDrunk', this.drunk]]) {
      const n = Number(String(input.value).trim());
      if (String(input.value).trim() === '' || !Number.isInteger(n) || n < 0 || n > MAX_PENALTY) errors[name] = 'A whole number from 0 to 20.';
      else settings[name] = n;
    }
    const grace = parseDuration(this.grace.value);
    if (Number.isNaN(grace) || grace < MIN_GRACE || grace > MAX_GRACE) errors.timeoutGracePeriod = 'Between 5 seconds and 5 minutes (e.g. 30s).';
    else settings.timeoutGracePeriod = grace;
    for (const [name, input] of [['timeoutBonusTime', this.after], ['bonusTime', this.bonus]]) {
      const ms = parseDuration(input.value);
      if (Number.isNaN(ms) || ms < 0 || ms > MAX_BONUS) errors[name] = 'Between 0 and 5 minutes (e.g. 30s).';
      else settings[name] = ms;
    }
    this.showErrors(errors);
    return Object.keys(errors).length > 0 ? { errors } : { settings };
  }
}

/** The section on the create form, folded under its summary like the table's rules. */
export class CreateTimeout {
  constructor() {
    this.fields = new TimeoutFields('f-timeout');
    const title = 'Timeout choice and turn bonus';
    this.box = h('details', { class: 'rules-create timeout-create', id: 'timeout-create' }, h('summary', { text: title, 'aria-label': title }), this.fields.root);
    byId('create-error').before(this.box);
  }

  /** The settings to add, {} when the section is off, or null after showing why not. */
  read() {
    const result = this.fields.read();
    if (result.errors) {
      this.box.open = true;
      return null;
    }
    return result.off ? {} : result.settings;
  }
}
