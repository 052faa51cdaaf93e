// Seat colours (HEAD's palette): a seated player opens the palette from More → "Your
// colour", the host for any seat from the seat's menu (the card's "…"); the choice is sent as
// `updatePlayer {color}` (null: back to the seat's own colour). A card with a colour takes it
// for its chip, top border and tint. Every colour is light enough for the chip's dark number
// and every tint dark enough for the card's light text (WCAG AA, checked by the tests).
//
// Nothing on the card itself opens the palette: a tap on a card's chip or edge stays a tap
// that does nothing (tests/static/test_misclick.py).

import { byId, h, icon } from './dom.js';

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
  constructor(grid, { act, dialogs, identity, place }) {
    this.grid = grid;
    this.act = act;
    this.dialogs = dialogs;
    this.identity = identity;
    this.state = null;
    this.pid = null;
    this.menuPid = null;
    this.build();
    this.mine = h('button', { type: 'button', class: 'btn', id: 'btn-my-color', hidden: true }, icon('star'), h('span', { text: 'Your colour' }));
    this.mine.addEventListener('click', () => {
      const seat = this.identity().seat;
      if (seat !== null) this.open(seat);
    });
    place(this.mine);
    // the host's seat menu (host.js, #dlg-player): the seat it is open for is the one whose
    // "…" was tapped
    grid.addEventListener('click', (e) => {
      const menu = e.target instanceof Element ? e.target.closest('.host-menu') : null;
      const card = menu?.closest('.card');
      if (card) this.menuPid = Number(card.dataset.player);
    });
    this.hostItem = h('button', { type: 'button', class: 'btn', id: 'pm-color' }, icon('star'), h('span', { text: 'Colour' }));
    this.hostItem.addEventListener('click', () => {
      const dialog = byId('dlg-player');
      const focused = document.activeElement;
      if (focused instanceof HTMLElement && dialog.contains(focused)) focused.blur();
      dialog.close();
      if (this.menuPid !== null) this.open(this.menuPid);
    });
    byId('pm-time').after(this.hostItem);
  }

  build() {
    this.title = h('h2', { id: 'color-title', text: 'Colour' });
    this.error = h('p', { class: 'form-error', id: 'color-error', role: 'alert', hidden: true });
    const none = h('button', { type: 'button', class: 'btn swatch swatch-none', 'data-color': '', 'aria-pressed': 'false' }, h('span', { text: 'None' }));
    const swatches = Object.entries(PALETTE).map(([id, spec]) => {
      const b = h('button', { type: 'button', class: 'btn swatch', 'data-color': id, 'aria-pressed': 'false' }, h('span', { class: 'swatch-dot', 'aria-hidden': 'true' }), h('span', { text: spec.label }));
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
      const chip = card.querySelector('.seat-chip');
      chip?.setAttribute('title', spec ? spec.label : '');
    }
    this.mine.hidden = me.seat === null || st.status === 'finished';
    this.hostItem.hidden = !me.isHost;
    if (this.dialog.open && this.pid !== null) {
      const p = st.players.find((q) => q.id === this.pid);
      if (p) for (const b of this.swatches.querySelectorAll('button')) b.setAttribute('aria-pressed', (b.dataset.color || null) === (p.color ?? null) ? 'true' : 'false');
    }
  }
}
