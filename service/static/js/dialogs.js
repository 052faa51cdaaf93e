// In-page dialogs (never window.confirm/alert): a confirmation, the host's settings, the
// host's actions on a player and a player's clock. Each <dialog> lives in index.html; this
// module fills, opens and closes them.

import { formatClock } from './clock.js';
import { buildPalette } from './colors.js';
import { byId, h, showError } from './dom.js';
import { PENALTY_TYPES, formatClockInput, formatDuration, penaltyLabel, validateClockEdit, validateSettingsUpdate } from './settings.js';

function fieldErrors(form, errors) {
  for (const node of form.querySelectorAll('[data-error-for]')) {
    const field = node.getAttribute('data-error-for');
    showError(node, errors[field] ?? '');
    const input = form.querySelector(`[name="${field}"]`);
    if (input) input.setAttribute('aria-invalid', errors[field] ? 'true' : 'false');
  }
}

/** Runs `submit` (an action returning a Promise of success) while the dialog's buttons are
 * disabled; closes the dialog when it succeeded. */
async function submitting(dialog, submit, close) {
  const buttons = dialog.querySelectorAll('button');
  for (const b of buttons) b.disabled = true;
  try {
    if (await submit()) close(dialog);
  } finally {
    for (const b of buttons) b.disabled = false;
  }
}

export class Dialogs {
  /** @param {() => boolean} byPointer  whether the interaction happening now is a pointer's */
  constructor(byPointer = () => false) {
    this.byPointer = byPointer;
    this.confirmDialog = byId('dlg-confirm');
    this.settingsDialog = byId('dlg-settings');
    this.timeDialog = byId('dlg-time');
    this.playerDialog = byId('dlg-player');
    this.all = [this.confirmDialog, this.settingsDialog, this.timeDialog, this.playerDialog];
    this.onConfirm = null;
    this.menuActions = null;
    this.onSettings = null;
    this.onTime = null;
    for (const dialog of this.all) {
      for (const cancel of dialog.querySelectorAll('[data-close]')) cancel.addEventListener('click', () => this.close(dialog));
      // Escape: the browser closes the dialog right after this event
      dialog.addEventListener('cancel', () => this.releaseFocus(dialog));
    }
    byId('confirm-form').addEventListener('submit', (e) => {
      e.preventDefault();
      const run = this.onConfirm;
      this.onConfirm = null;
      this.close(this.confirmDialog);
      run?.();
    });
    byId('settings-form').addEventListener('submit', (e) => {
      e.preventDefault();
      this.onSettings?.();
    });
    byId('time-form').addEventListener('submit', (e) => {
      e.preventDefault();
      this.onTime?.();
    });
    byId('settings-penalty').addEventListener('change', () => this.syncDeduction());
    // every item of the host's player menu closes it, then does its action (which may ask or
    // open a dialog of its own)
    const run = (action, arg) => {
      const actions = this.menuActions;
      this.menuActions = null;
      this.close(this.playerDialog);
      actions?.[action](arg);
    };
    for (const [id, action] of [
      ['pm-penalty', 'penalty'],
      ['pm-time', 'time'],
      ['pm-eliminate', 'eliminate'],
      ['pm-kick', 'kick'],
      ['pm-revive', 'revive'],
      ['pm-host', 'host'],
      ['pm-free', 'free'],
    ]) {
      byId(id).addEventListener('click', () => run(action));
    }
    // the usual amounts are one tap; "Other…" opens the add-time dialog
    byId('pm-add-row').addEventListener('click', (e) => {
      const b = e.target instanceof Element ? e.target.closest('button') : null;
      if (b) run('addTime', b.dataset.minutes ? Number(b.dataset.minutes) : null);
    });
    this.moveRow = byId('pm-move-row');
    this.moveRow.addEventListener('click', (e) => {
      const b = e.target instanceof Element ? e.target.closest('button[data-to]') : null;
      if (b) run('move', Number(b.dataset.to));
    });
    this.palette = buildPalette('pm-colors', 'Colour', (color) => run('color', color));
    this.playerDialog.querySelector('.menu-actions').append(this.palette.root);
  }

  /** A field of a closed dialog would keep focus until the browser's next focus fixup,
   * swallowing the first shortcut typed after closing. */
  releaseFocus(dialog) {
    const focused = document.activeElement;
    if (focused instanceof HTMLElement && dialog.contains(focused)) focused.blur();
  }

  close(dialog) {
    this.releaseFocus(dialog);
    dialog.close();
  }

  /** Closing a dialog gives focus back to what had it when it opened. After a tap that
   * must not be the button that opened it, or the next Space would open the dialog again
   * instead of passing the turn; keyboard users keep their place, as they expect. */
  show(dialog) {
    if (dialog.open) return;
    const focused = document.activeElement;
    if (this.byPointer() && focused instanceof HTMLElement) focused.blur();
    dialog.showModal();
  }

  /** Every open <dialog> of the page, whichever module built it: the page is leaving the
   * game (Leave, Back, the game deleted), and nothing of it may stay over the next screen. */
  closeAll() {
    for (const dialog of document.querySelectorAll('dialog[open]')) this.close(dialog);
  }

  /** The host's actions on one player; each closes the menu and may open its own dialog.
   * `seat` is what the seat offers: {text (who holds it), host (may be made host), free (may
   * be freed), moveTo: [{id, name}] (the free seats its holder may be moved to)}. */
  playerMenu({ player, settings, finished, seat }, actions) {
    const out = finished || player.isEliminated;
    byId('player-title').textContent = player.name;
    byId('pm-seat').textContent = seat.text;
    byId('pm-penalty-hint').textContent = `Penalty in this game: ${penaltyLabel(settings.penaltyType, settings.penaltyTimeDeduction)}. ${player.name} has ${player.penalties}.`;
    byId('pm-penalty').disabled = out;
    byId('pm-eliminate').disabled = out;
    byId('pm-time').disabled = player.isEliminated;
    for (const b of byId('pm-add-row').querySelectorAll('button')) b.disabled = out;
    // a kick frees a held seat (and takes the player out); a free seat has nobody to kick
    byId('pm-kick').disabled = player.claimedBy === null || player.claimedBy === undefined;
    byId('pm-revive').hidden = !player.isEliminated;
    byId('pm-host').hidden = !seat.host;
    byId('pm-free').hidden = !seat.free;
    this.moveRow.hidden = seat.moveTo.length === 0;
    this.moveRow.replaceChildren(
      this.moveRow.firstElementChild,
      ...seat.moveTo.map((q) => h('button', { type: 'button', class: 'btn btn-small', 'data-to': q.id, 'aria-label': `Move ${player.name} to seat ${q.id} (${q.name})`, text: `Seat ${q.id}` })),
    );
    this.palette.mark(player.color ?? null);
    this.playerDialog.dataset.player = String(player.id);
    this.menuActions = actions;
    this.show(this.playerDialog);
  }

  /** Asks first; `run` is called only when the person confirms. */
  ask({ title, message, confirmLabel }, run) {
    byId('confirm-title').textContent = title;
    byId('confirm-message').textContent = message;
    byId('confirm-ok').textContent = confirmLabel;
    this.onConfirm = run;
    this.show(this.confirmDialog);
  }

  syncDeduction() {
    byId('settings-deduction-row').hidden = byId('settings-penalty').value !== 'time_deduction';
  }

  /** Pre-filled with the game's current settings (the original always showed defaults).
   * `send(update, errorNode)` resolves true when the server accepted. */
  editSettings(settings, send) {
    const form = byId('settings-form');
    fieldErrors(form, {});
    showError(byId('settings-error'), '');
    form.elements.namedItem('thresholds').value = settings.warningThresholds.map(formatDuration).join(', ');
    const penalty = form.elements.namedItem('penaltyType');
    penalty.value = PENALTY_TYPES.includes(settings.penaltyType) ? settings.penaltyType : 'warning';
    const deduction = settings.penaltyTimeDeduction > 0 ? settings.penaltyTimeDeduction : 60_000;
    form.elements.namedItem('deduction').value = formatDuration(deduction);
    byId('settings-fixed').textContent = `${settings.playerCount} players · ${formatClock(settings.initialTime)} each`;
    this.syncDeduction();
    this.onSettings = () => {
      const result = validateSettingsUpdate({
        thresholds: form.elements.namedItem('thresholds').value,
        penaltyType: penalty.value,
        deduction: form.elements.namedItem('deduction').value,
      });
      fieldErrors(form, result.errors ?? {});
      if (result.errors) return;
      submitting(this.settingsDialog, () => send(result.update, byId('settings-error')), (d) => this.close(d));
    };
    this.show(this.settingsDialog);
  }

  /** The host sets a player's clock; `send(ms, errorNode)` resolves true on success. */
  editTime(player, remainingMs, send) {
    const form = byId('time-form');
    fieldErrors(form, {});
    showError(byId('time-error'), '');
    byId('time-title').textContent = `Time for ${player.name}`;
    const input = form.elements.namedItem('time');
    input.value = formatClockInput(remainingMs);
    this.onTime = () => {
      const result = validateClockEdit(input.value);
      fieldErrors(form, result.error ? { time: result.error } : {});
      if (result.error) return;
      submitting(this.timeDialog, () => send(result.value, byId('time-error')), (d) => this.close(d));
    };
    this.show(this.timeDialog);
    input.select();
  }
}
