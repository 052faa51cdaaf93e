// The victory overlay: when a game ends (gameComplete, or a finished state after a reload)
// the end-of-game summary (summary.js: the winner, each player's time used and turns) is
// lifted over the board, big, until it is dismissed; then it goes back to its place above
// the board. One summary, two places: nothing is drawn twice.
//
// The overlay is not modal: the host's controls (reset, the cards' menus) stay usable
// beside it, and nothing steals the focus from a player in the middle of something.

import { h } from './dom.js';

export class VictoryOverlay {
  /** @param {HTMLElement} content  the summary's section, already in its inline place */
  constructor(content) {
    this.content = content;
    this.home = document.createComment('the game summary, when the overlay is closed');
    content.before(this.home);
    this.gameId = null;
    // 'game': opened for a finished game (closes when it is no longer finished); 'round':
    // opened for a campaign's round (the next round's state follows at once, and keeps it)
    this.kind = null;
    /** called after the overlay closed (the summary decides whether it stays shown) */
    this.onClose = () => {};
    this.closeButton = h('button', { type: 'button', class: 'btn btn-primary', id: 'btn-victory-close', text: 'Close' });
    this.body = h('div', { class: 'victory-body' }, h('div', { class: 'dialog-actions' }, this.closeButton));
    this.dialog = h('dialog', { id: 'dlg-victory', class: 'victory', 'aria-labelledby': 'summary-title' }, this.body);
    document.body.append(this.dialog);
    this.closeButton.addEventListener('click', () => this.close());
    this.dialog.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') this.close();
    });
    // closed by anyone else (dialogs.closeAll as the page leaves the game): the summary
    // goes back above the board all the same
    this.dialog.addEventListener('close', () => this.restore());
  }

  get isOpen() {
    return this.dialog.open;
  }

  open(gameId, kind) {
    this.gameId = gameId;
    this.kind = kind;
    this.body.prepend(this.content);
    this.content.hidden = false;
    if (!this.dialog.open) this.dialog.show();
  }

  /** `notify` false: the summary closes it itself while rendering, and needs no call back. */
  close(notify = true) {
    if (!this.dialog.open) return;
    this.dialog.close();
    this.restore();
    if (notify) this.onClose();
  }

  restore() {
    if (this.content.parentNode === this.body) this.home.after(this.content);
    this.kind = null;
  }
}
