// A player's life: −5, −1, the number, +1, +5. Holding a step button repeats it (after a
// short delay, at a steady rate, until the pointer is lifted, cancelled or leaves); tapping
// the number turns it into a field to type the new life in (Enter or leaving the field sets
// it, Escape keeps the old one). None of it can pass the turn: the card's taps do nothing
// once a game has started (board.js).

import { h, icon } from './dom.js';

/** Before the first repeat: a tap (up within this) counts once. */
export const REPEAT_DELAY_MS = 450;
/** Between repeats while held: about eight steps a second, well under the server's limits. */
export const REPEAT_EVERY_MS = 120;
export const LIFE_MIN = -999;
export const LIFE_MAX = 9999;

/**
 * Makes `button` step on pointerdown and repeat while held. Keyboard activation (a click
 * with detail 0) steps once; a pointer's click is ignored (its pointerdown stepped).
 * @param {HTMLButtonElement} button
 * @param {() => void} step
 */
export function holdToRepeat(button, step) {
  let delay = 0;
  let every = 0;
  const stop = () => {
    clearTimeout(delay);
    clearInterval(every);
    delay = 0;
    every = 0;
  };
  const live = () => button.isConnected && !button.hidden && !button.disabled;
  const tick = () => {
    if (live()) step();
    else stop();
  };
  button.addEventListener('pointerdown', (e) => {
    if (e.button !== 0) return;
    stop();
    tick();
    delay = setTimeout(() => {
      every = setInterval(tick, REPEAT_EVERY_MS);
    }, REPEAT_DELAY_MS);
  });
  for (const type of ['pointerup', 'pointercancel', 'pointerleave', 'blur']) button.addEventListener(type, stop);
  // a long touch opens no context menu over the button
  button.addEventListener('contextmenu', (e) => e.preventDefault());
  button.addEventListener('click', (e) => {
    if (e.detail === 0) step();
  });
  window.addEventListener('blur', stop);
}

/**
 * A counter's − value + row of player `pid` (drunk, poison and the others; life has its own
 * control below): `step(±1)` on a tap.
 * @param {number} pid
 * @param {string} field
 * @param {{label: string, icon: string}} spec
 * @param {(delta: number) => void} step
 */
export function buildStepper(pid, field, spec, step) {
  const what = `${spec.label.toLowerCase()} of player ${pid}`;
  const value = h('span', { class: 'stat-value' });
  const minus = h('button', { type: 'button', class: 'step', 'aria-label': `Decrease ${what}` }, icon('minus'));
  const plus = h('button', { type: 'button', class: 'step', 'aria-label': `Increase ${what}` }, icon('plus'));
  minus.addEventListener('click', () => step(-1));
  plus.addEventListener('click', () => step(1));
  const center = h('div', { class: 'stat-center' }, h('span', { class: 'stat-label' }, icon(spec.icon), h('span', { text: spec.label })), value);
  return { root: h('div', { class: `stat stat-${field}` }, minus, center, plus), value, minus, plus };
}

/** The whole number typed, within the life range, or null. */
export function parseLife(text) {
  const t = String(text).trim();
  if (!/^[+-]?\d{1,4}$/.test(t)) return null;
  const n = Number(t);
  return n >= LIFE_MIN && n <= LIFE_MAX ? n : null;
}

/**
 * The life control of player `pid`.
 * @param {number} pid
 * @param {{adjust: (delta: number) => void, set: (value: number) => void, invalid: () => void}} on
 * @returns {{root: HTMLElement, value: HTMLButtonElement, input: HTMLInputElement,
 *   steps: HTMLButtonElement[], render: (value: number, canEdit: boolean) => void}}
 */
export function buildLife(pid, on) {
  const what = `life of player ${pid}`;
  const step = (delta, label, cls, iconName) => {
    const b = h('button', { type: 'button', class: `step life-step ${cls}`, 'aria-label': label, 'data-delta': delta }, icon(iconName), Math.abs(delta) > 1 ? h('span', { class: 'step-n', text: String(Math.abs(delta)) }) : null);
    holdToRepeat(b, () => on.adjust(delta));
    return b;
  };
  const minus5 = step(-5, `Take 5 from the ${what}`, 'step-5', 'minus');
  const minus1 = step(-1, `Decrease ${what}`, 'step-1', 'minus');
  const plus1 = step(1, `Increase ${what}`, 'step-1', 'plus');
  const plus5 = step(5, `Add 5 to the ${what}`, 'step-5', 'plus');
  const value = h('button', { type: 'button', class: 'stat-value life-value' });
  const input = h('input', {
    class: 'life-input',
    type: 'text',
    inputmode: 'numeric',
    autocomplete: 'off',
    enterkeyhint: 'done',
    maxlength: 5,
    'aria-label': `New ${what}`,
    hidden: true,
  });
  let editable = false;
  let cancelled = false;
  const close = () => {
    input.hidden = true;
    value.hidden = false;
  };
  value.addEventListener('click', () => {
    if (!editable) return;
    cancelled = false;
    input.value = value.textContent ?? '';
    value.hidden = true;
    input.hidden = false;
    input.focus();
    input.select();
  });
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') {
      e.preventDefault();
      input.blur();
    } else if (e.key === 'Escape') {
      e.preventDefault();
      cancelled = true;
      input.blur();
    }
  });
  input.addEventListener('blur', () => {
    if (input.hidden) return;
    close();
    if (cancelled) return;
    const typed = parseLife(input.value);
    if (typed === null) on.invalid();
    else if (String(typed) !== value.textContent) on.set(typed);
  });
  const label = h('span', { class: 'stat-label' }, icon('heart'), h('span', { text: 'Life' }));
  const center = h('div', { class: 'stat-center' }, label, value, input);
  const root = h('div', { class: 'stat stat-life' }, h('div', { class: 'life-steps life-minus' }, minus1, minus5), center, h('div', { class: 'life-steps life-plus' }, plus1, plus5));
  const steps = [minus5, minus1, plus1, plus5];
  return {
    root,
    value,
    input,
    steps,
    render(n, canEdit) {
      editable = canEdit;
      if (document.activeElement !== input) value.textContent = String(n);
      // the number is the button's text; its name says what a tap does with it
      value.setAttribute('aria-label', canEdit ? `Life of player ${pid}: ${n}. Tap to type a new value` : `Life of player ${pid}: ${n}`);
      value.disabled = !canEdit;
      for (const b of steps) b.hidden = !canEdit;
      if (!canEdit && !input.hidden) close();
    },
  };
}
