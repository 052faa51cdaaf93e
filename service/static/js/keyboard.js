// Shortcuts: Space = pass turn, 1-8 = switch to that player, P = pause/resume, M = mute.
//
// The original bound Space and P on the whole document, so typing a name containing a
// space or a "p" passed the turn. Here a key is a shortcut only when it is not text entry:
// never in a field, a dialog or an editable element, never with Ctrl/Alt/Meta (browser
// and OS shortcuts), never as auto-repeat (holding Space must not pass the turn ten times).

const TEXT_ENTRY = 'input, textarea, select, [contenteditable]:not([contenteditable="false"]), dialog';
// Space already means "press" on these; a keyboard user who focused one wants that
const SPACE_ACTIVATES = 'button, a[href], summary, [role="button"], [role="checkbox"], [role="switch"]';

function isTextEntry(target) {
  if (!(target instanceof Element)) return false;
  // a field of a dialog that just closed keeps focus until the browser's next focus fixup
  if (target.closest('dialog:not([open])') !== null) return false;
  return target.closest(TEXT_ENTRY) !== null || target.isContentEditable;
}

/**
 * @param {{passTurn: () => boolean, switchTo: (n: number) => boolean,
 *          togglePause: () => boolean, toggleMute: () => boolean}} actions
 *   each returns whether it handled the key (then the browser's default is suppressed)
 */
export function installShortcuts(actions) {
  document.addEventListener('keydown', (e) => {
    if (e.defaultPrevented || e.ctrlKey || e.altKey || e.metaKey || e.isComposing || e.repeat) return;
    if (isTextEntry(e.target) || document.querySelector('dialog[open]') !== null) return;
    let handled = false;
    if (e.key === ' ' || e.code === 'Space') {
      if (e.target instanceof Element && e.target.closest(SPACE_ACTIVATES) !== null) return;
      handled = actions.passTurn();
    } else if (/^[1-8]$/.test(e.key)) {
      handled = actions.switchTo(Number(e.key));
    } else if (e.key === 'p' || e.key === 'P') {
      handled = actions.togglePause();
    } else if (e.key === 'm' || e.key === 'M') {
      handled = actions.toggleMute();
    }
    if (handled) e.preventDefault();
  });
}
