// What the game tells the person besides the board: inline errors, the aria-live region and
// the notice line (warnings, timeouts).

import { byId, showError } from './dom.js';

const ERROR_VISIBLE_MS = 10_000;

const errorTimers = new WeakMap();

/** An error shown where it happened, fading after a while so it does not outlive its cause. */
export function flashError(node, message) {
  showError(node, message);
  clearTimeout(errorTimers.get(node));
  if (message !== '') errorTimers.set(node, setTimeout(() => showError(node, ''), ERROR_VISIBLE_MS));
}

let announceTimer = 0;

/** The aria-live region: turn changes, warnings, timeouts, the winner. */
export function announce(text) {
  const region = byId('announcer');
  region.textContent = '';
  clearTimeout(announceTimer);
  // emptied first so the same sentence twice is still read out twice
  announceTimer = setTimeout(() => (region.textContent = text), 30);
}

export function showNotice(kind, text) {
  const node = byId('notice');
  node.dataset.kind = kind;
  byId('notice-text').textContent = text;
  node.hidden = false;
}
