// Sounds (Web Audio tones, as the original's) and vibration.
//
// Browsers only let a page make sound after a user gesture, so the AudioContext is created
// or resumed on the first tap or key press, never before. `window.__tapotarp.tonesPlayed`
// counts oscillators actually started on a running context: a test reading it learns what
// was audible, not what was merely requested.

const hook = (window.__tapotarp ??= {});
hook.tonesPlayed = 0;
hook.vibrations = 0;

const PEAK = 0.3 * 0.5;
const FLOOR = 0.01 * 0.5;

export class Sounds {
  constructor(muted) {
    this.muted = muted;
    this.ctx = null;
  }

  /** Call from a user gesture handler. */
  unlock() {
    if (this.ctx === null) {
      const Ctor = window.AudioContext ?? window.webkitAudioContext;
      if (!Ctor) return;
      try {
        this.ctx = new Ctor();
      } catch {
        return;
      }
    }
    if (this.ctx.state === 'suspended') this.ctx.resume().catch(() => {});
  }

  setMuted(muted) {
    this.muted = muted;
  }

  tone(freq, at, duration, type = 'sine') {
    const ctx = this.ctx;
    if (this.muted || ctx === null || ctx.state !== 'running') return;
    const t = ctx.currentTime + at;
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.type = type;
    osc.frequency.setValueAtTime(freq, t);
    gain.gain.setValueAtTime(PEAK, t);
    gain.gain.exponentialRampToValueAtTime(FLOOR, t + duration);
    osc.connect(gain);
    gain.connect(ctx.destination);
    osc.start(t);
    osc.stop(t + duration);
    hook.tonesPlayed += 1;
  }

  vibrate(pattern) {
    if (this.muted || typeof navigator.vibrate !== 'function') return;
    try {
      if (navigator.vibrate(pattern)) hook.vibrations += 1;
    } catch {
      // some browsers throw instead of returning false without a gesture
    }
  }

  /** A clock crossed a warning threshold: fewer, longer beeps when there is more time. */
  warning(threshold) {
    if (threshold >= 300_000) {
      this.tone(440, 0, 0.5);
    } else if (threshold >= 60_000) {
      this.tone(660, 0, 0.25);
      this.tone(660, 0.3, 0.25);
    } else {
      for (const at of [0, 0.15, 0.3]) this.tone(880, at, 0.15);
    }
  }

  timeout() {
    for (const at of [0, 0.5, 1.0]) this.tone(200, at, 0.5, 'square');
    this.tone(200, 1.5, 1.0, 'square');
  }

  /** The turn came to this device's player. */
  yourTurn() {
    this.tone(600, 0, 0.1);
  }

  paused() {
    this.tone(659.25, 0, 0.15);
    this.tone(523.25, 0.1, 0.15);
  }

  resumed() {
    this.tone(523.25, 0, 0.15);
    this.tone(659.25, 0.1, 0.15);
  }
}
