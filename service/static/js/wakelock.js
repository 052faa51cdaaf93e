// The screen stays on while a game runs (Screen Wake Lock): a long turn must not put the
// phone or the table's tablet to sleep. The lock is held only while this page shows a
// running game and is visible; the browser drops it when the page is hidden, so it is asked
// for again when the page comes back. Without the API (or when it is refused) nothing
// happens: the clock works the same, the screen just may sleep.

export class ScreenLock {
  constructor(api = navigator.wakeLock) {
    this.api = api && typeof api.request === 'function' ? api : null;
    this.wanted = false;
    this.sentinel = null;
    this.pending = null;
    document.addEventListener('visibilitychange', () => this.sync());
  }

  get supported() {
    return this.api !== null;
  }

  /** Whether the screen should stay on now (a running game on the screen). */
  want(on) {
    this.wanted = Boolean(on);
    this.sync();
  }

  sync() {
    if (this.api === null) return;
    const hold = this.wanted && document.visibilityState === 'visible';
    if (hold && this.sentinel === null && this.pending === null) this.acquire();
    else if (!hold && this.sentinel !== null) this.drop();
  }

  async acquire() {
    const asking = (async () => {
      try {
        return await this.api.request('screen');
      } catch {
        // refused (battery saver, no user activation yet, a policy): stay quiet
        return null;
      }
    })();
    this.pending = asking;
    const sentinel = await asking;
    this.pending = null;
    if (sentinel === null) return;
    this.sentinel = sentinel;
    sentinel.addEventListener?.('release', () => {
      if (this.sentinel === sentinel) this.sentinel = null;
    });
    // the game stopped while the request was on its way
    this.sync();
  }

  drop() {
    const sentinel = this.sentinel;
    this.sentinel = null;
    try {
      Promise.resolve(sentinel.release()).catch(() => {});
    } catch {
      // already released
    }
  }
}
