// Seat colours (HEAD's palette): a seated player picks their seat's colour in the More menu
// ("Your colour"), the host any seat's in the seat's menu (the card's "…"); each is one row of
// the palette's dots, so the pick is the menu's second tap. The choice is sent as
// `updatePlayer {color}` (null: back to the seat's own colour). A card with a colour takes it
// for its chip, top border and tint. Every colour is light enough for the chip's dark number
// and every tint dark enough for the card's light text (WCAG AA, checked by the tests).
//
// Nothing on the card itself opens the palette: a tap on a card's chip or edge stays a tap
// that does nothing (tests/static/test_misclick.py).

import { byId, h } from './dom.js';

export const PALETTE = {
  red: { label: 'Red', seat: '#f87171', tint: '#33262c', active: '#472e33' },
  blue: { label: 'Blue', seat: '#60a5fa', tint: '#1f2d3e', active: '#263952' },
  green: { label: 'Green', seat: '#4ade80', tint: '#1c342e', active: '#214637' },
  yellow: { label: 'Yellow', seat: '#facc15', tint: '#333220', active: '#47421f' },
  purple: { label: 'Purple', seat: '#c084fc', tint: '#2b293e', active: '#3b3252' },
  cyan: { label: 'Cyan', seat: '#22d3ee', tint: '#17333d', active: '#18434f' },
  orange: { label: 'Orange', seat: '#fb923c', tint: '#332a25', active: '#483528' },
  pink: { label: 'Pink', seat: '#f472b6', tint: '#322635', active: '#462e43' },
  lime: { label: 'Lime', seat: '#a3e635', tint: '#29321f', active: '#36451f' },
  teal: { label: 'Teal', seat: '#2dd4bf', tint: '#17322f', active: '#1a443f' },
  indigo: { label: 'Indigo', seat: '#a5b4fc', tint: '#25283f', active: '#2f3456' },
  amber: { label: 'Amber', seat: '#fbbf24', tint: '#332d1f', active: '#473c1c' },
};

const VARS = [
  ['--seat', 'seat'],
  ['--tint', 'tint'],
  ['--tint-active', 'active'],
];

/** One row of the palette for a menu: a dot per colour and "None"; `pick(colour id or null)`
 * runs on a tap. The row's label names the colour chosen now (`mark`), so the dots need no
 * words of their own (each has its name for screen readers and as a tooltip). */
export function buildPalette(id, label, pick) {
  const title = h('span', { class: 'dice-label', id: `${id}-label`, text: label });
  const dots = Object.entries(PALETTE).map(([color, spec]) => {
    const b = h('button', { type: 'button', class: 'btn swatch', 'data-color': color, 'aria-pressed': 'false', 'aria-label': spec.label, title: spec.label }, h('span', { class: 'swatch-dot', 'aria-hidden': 'true' }));
    b.querySelector('.swatch-dot').style.setProperty('--swatch', spec.seat);
    return b;
  });
  const none = h('button', { type: 'button', class: 'btn btn-small swatch-none', 'data-color': '', 'aria-pressed': 'false', text: 'None' });
  const root = h('div', { class: 'palette', id, role: 'group', 'aria-labelledby': `${id}-label` }, title, ...dots, none);
  root.addEventListener('click', (e) => {
    const b = e.target instanceof Element ? e.target.closest('button[data-color]') : null;
    if (b) pick(b.dataset.color || null);
  });
  return {
    root,
    /** Shows `color` (a palette id or null) as the one chosen now. */
    mark(color) {
      const chosen = PALETTE[color] ? color : null;
      for (const b of root.querySelectorAll('button[data-color]')) b.setAttribute('aria-pressed', (b.dataset.color || null) === chosen ? 'true' : 'false');
      title.textContent = `${label}: ${chosen ? PALETTE[chosen].label : 'none'}`;
    },
  };
}

export class SeatColors {
  /**
   * @param {HTMLElement} grid  the board
   * @param {object} deps
   * @param {(type: string, data?: object, errorNode?: HTMLElement) => Promise<object | null>} deps.act
   * @param {() => {seat: number | null}} deps.identity
   * @param {(node: HTMLElement) => void} deps.place  puts a node in the table menu (More)
   */
  constructor(grid, { act, identity, place }) {
    this.grid = grid;
    // the More menu closes on any tap of one of its buttons, a dot included
    this.mine = buildPalette('my-colors', 'Your colour', (color) => {
      const seat = identity().seat;
      if (seat !== null) act('updatePlayer', { playerId: seat, color }, byId('game-error'));
    });
    this.mine.root.hidden = true;
    place(this.mine.root);
  }

  render(st, me) {
    for (const p of st.players) {
      const card = this.grid.querySelector(`.card[data-player="${p.id}"]`);
      if (!card) continue;
      const spec = PALETTE[p.color] ?? null;
      for (const [name, key] of VARS) {
        if (spec) card.style.setProperty(name, spec[key]);
        else card.style.removeProperty(name);
      }
      card.dataset.color = spec ? p.color : '';
      const chip = card.querySelector('.seat-chip');
      chip?.setAttribute('title', spec ? spec.label : '');
    }
    const mine = st.players.find((p) => p.id === me.seat);
    this.mine.root.hidden = mine === undefined || st.status === 'finished';
    if (mine) this.mine.mark(mine.color ?? null);
  }
}
