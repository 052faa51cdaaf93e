// Table-centre mode: one tablet lies in the middle of the table and every seat's card faces
// its player. Seats go clockwise from the near left: along the near edge (upright), up the
// right side (turned a quarter), back along the far edge (upside down) and down the left
// side. The game's controls sit in the strip across the middle. The layout is pure CSS
// (app.css, "table-centre mode") from the data attributes set here; nothing scrolls.
//
// The switch is remembered on the device: a tablet that was the table's stays one.

import { byId } from './dom.js';

const KEY = 'tapotarp.tableMode';

/** How many seats go on each edge for a player count: [near, right, far, left]. */
export const EDGES = {
  2: [1, 0, 1, 0],
  3: [2, 0, 1, 0],
  4: [2, 0, 2, 0],
  5: [3, 0, 2, 0],
  6: [2, 1, 2, 1],
  7: [2, 1, 3, 1],
  8: [3, 1, 3, 1],
};

const SIDES = ['near', 'right', 'far', 'left'];

/** Where seat `pid` (1-based) of `count` sits: its edge, its place along that edge as laid
 * out on screen from the left (or the top, for the sides) and how many share the edge. */
export function placeOf(pid, count) {
  const edges = EDGES[count] ?? EDGES[8];
  let i = pid - 1;
  for (let e = 0; e < 4; e += 1) {
    const n = edges[e];
    if (i < n) {
      // clockwise: the near edge runs left to right, the right side bottom to top, the far
      // edge right to left and the left side top to bottom
      const at = e === 0 ? i : e === 1 ? n - 1 - i : e === 2 ? n - 1 - i : i;
      return { side: SIDES[e], at, of: n };
    }
    i -= n;
  }
  return { side: 'near', at: 0, of: 1 };
}

function stored() {
  try {
    return localStorage.getItem(KEY) === '1';
  } catch {
    return false;
  }
}

export class TableMode {
  /**
   * @param {HTMLElement} board  the board (cards are its children, `data-player` on each)
   * @param {HTMLButtonElement} button  the switch
   */
  constructor(board, button) {
    this.board = board;
    this.button = button;
    this.on = stored();
    button.addEventListener('click', () => this.set(!this.on));
    // while the seats fill up, the phones at the table scan the tablet's QR code
    const qr = byId('dlg-qr');
    byId('btn-qr').addEventListener('click', () => {
      byId('dlg-qr-img').src = byId('share-qr').src;
      if (!qr.open) qr.showModal();
    });
    byId('dlg-qr-close').addEventListener('click', () => qr.close());
    this.apply();
  }

  set(on) {
    this.on = on;
    try {
      localStorage.setItem(KEY, on ? '1' : '0');
    } catch {
      // applied for this visit only
    }
    this.apply();
  }

  /** After every render (cards are rebuilt for a new game). */
  apply() {
    document.body.classList.toggle('table-mode', this.on);
    this.button.setAttribute('aria-pressed', this.on ? 'true' : 'false');
    byId('btn-table-label').textContent = this.on ? 'Exit table view' : 'Table view';
    const cards = [...this.board.children].filter((c) => c instanceof HTMLElement && c.dataset.player);
    const count = cards.length;
    const edges = EDGES[count] ?? EDGES[8];
    document.body.dataset.tableSides = edges[1] + edges[3] > 0 ? 'yes' : 'no';
    for (const card of cards) {
      const place = placeOf(Number(card.dataset.player), count);
      card.dataset.side = place.side;
      card.dataset.at = String(place.at);
      card.dataset.of = String(place.of);
    }
  }
}
