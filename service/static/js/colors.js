// Seat colours (HEAD's palette): the seat's number chip on a card its holder (or the host)
// may edit becomes a button that opens the palette; the choice is sent as `updatePlayer
// {color}` (null: back to the seat's own colour). A card with a colour takes it for its
// accent, border and tint. Every colour is light enough for the chip's dark number and
// every tint dark enough for the card's light text (WCAG AA, checked by the tests).

import { h } from './dom.js';

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

export class SeatColors {
  /**
   * @param {HTMLElement} grid  the board
   * @param {{act: Function, dialogs: import('./dialogs.js').Dialogs}} deps
   */
  constructor(grid, { act, dialogs }) {
    this.grid = grid;
    this.act = act;
    this.dialogs = dialogs;
    this.buttons = new Map();
    this.state = null;
    this.pid = null;
    this.build();
  }

  build() {
    this.title = h('h2', { id: 'color-title', text: 'Colour' });
    this.error = h('p', { class: 'form-error', id: 'color-error', role: 'alert', hidden: true });
    const none = h('button', { type: 'button', class: 'swatch swatch-none', 'data-color': '', 'aria-pressed': 'false' }, h('span', { text: 'None' }));
    const swatches = Object.entries(PALETTE).map(([id, spec]) => {
      const b = h('button', { type: 'button', class: 'swatch', 'data-color': id, 'aria-pressed': 'false' }, h('span', { class: 'swatch-dot', 'aria-hidden': 'true' }), h('span', { text: spec.label }));
      b.querySelector('.swatch-dot').style.setProperty('--swatch', spec.seat);
      return b;
    });
    this.swatches = h('div', { class: 'swatches', role: 'group', 'aria-labelledby': 'color-title' }, ...swatches, none);
    const close = h('button', { type: 'button', class: 'btn', text: 'Close' });
    this.dialog = h('dialog', { id: 'dlg-color', 'aria-labelledby': 'color-title' }, h('div', { class: 'dialog-body' }, this.title, this.swatches, this.error, h('div', { class: 'dialog-actions' }, close)));
    document.body.append(this.dialog);
    close.addEventListener('click', () => this.dialog.close());
    this.swatches.addEventListener('click', (e) => {
      const b = e.target instanceof Element ? e.target.closest('button[data-color]') : null;
      if (b) this.choose(b.dataset.color || null);
    });
  }

  async choose(color) {
    const pid = this.pid;
    if (pid === null) return;
    this.error.hidden = true;
    if ((await this.act('updatePlayer', { playerId: pid, color }, this.error)) !== null) this.dialog.close();
  }

  open(pid) {
    const p = this.state?.players.find((q) => q.id === pid);
    if (!p) return;
    this.pid = pid;
    this.title.textContent = `Colour of ${p.name}`;
    this.error.hidden = true;
    for (const b of this.swatches.querySelectorAll('button')) b.setAttribute('aria-pressed', (b.dataset.color || null) === (p.color ?? null) ? 'true' : 'false');
    this.dialogs.show(this.dialog);
  }

  /** The chip's button, added to a card once (board.js rebuilds cards for a new game). */
  buttonOf(card, pid) {
    let b = this.buttons.get(pid);
    if (b && card.contains(b)) return b;
    b = h('button', { type: 'button', class: 'color-btn', 'data-player': pid }, h('span', { class: 'color-chip', 'aria-hidden': 'true', text: String(pid) }));
    b.addEventListener('click', () => this.open(pid));
    card.querySelector('.seat-chip')?.after(b);
    this.buttons.set(pid, b);
    return b;
  }

  render(st, me) {
    this.state = st;
    for (const p of st.players) {
      const card = this.grid.querySelector(`.card[data-player="${p.id}"]`);
      if (!card) continue;
      const spec = PALETTE[p.color] ?? null;
      for (const [name, key] of VARS) {
        if (spec) card.style.setProperty(name, spec[key]);
        else card.style.removeProperty(name);
      }
      card.dataset.color = spec ? p.color : '';
      const mine = p.claimedBy !== null && p.claimedBy !== undefined && p.claimedBy === me.clientId;
      const editable = (me.isHost || mine) && st.status !== 'finished';
      const b = this.buttonOf(card, p.id);
      b.hidden = !editable;
      b.setAttribute('aria-label', `Colour of ${p.name}: ${spec ? spec.label : 'seat colour'}`);
      const chip = card.querySelector('.seat-chip');
      if (chip) chip.hidden = editable;
    }
    if (this.dialog.open && this.pid !== null) {
      const p = st.players.find((q) => q.id === this.pid);
      if (p) for (const b of this.swatches.querySelectorAll('button')) b.setAttribute('aria-pressed', (b.dataset.color || null) === (p.color ?? null) ? 'true' : 'false');
    }
  }
}
