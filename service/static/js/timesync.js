// Keeps the estimate of the server's clock honest: probes on every connection and now and
// then, and a cheap check of each tick against what the display computed by itself.

import { remainingAt } from './clock.js';
import { NoAnswerError } from './net.js';

export const PROBES_ON_CONNECT = 5;
const PROBE_EVERY_MS = 20_000;
// a tick further than this from our own computation means our time offset went wrong
const TICK_TOLERANCE_MS = 1_000;
const MIN_RESYNC_GAP_MS = 10_000;

export class TimeSync {
  /**
   * @param {import('./net.js').Connection} conn
   * @param {import('./clock.js').ServerClock} clock
   */
  constructor(conn, clock) {
    this.conn = conn;
    this.clock = clock;
    this.probing = false;
    this.lastResync = 0;
  }

  /** Probes in the background for as long as the page lives. */
  startPeriodic() {
    setInterval(() => this.probe(2), PROBE_EVERY_MS);
  }

  /** A new connection (maybe another instance, maybe after the device slept). */
  connected() {
    this.clock.markStale();
    this.probe(PROBES_ON_CONNECT);
  }

  /** Measures the server clock's offset; a probe left unanswered means the socket is dead. */
  async probe(count) {
    if (this.probing) return;
    this.probing = true;
    try {
      for (let i = 0; i < count && this.conn.connected; i++) {
        const t0 = Date.now();
        const reply = await this.conn.request('time', { clientTime: t0 }, 5_000);
        this.clock.addSample(t0, Number(reply.data.serverTime), Date.now());
      }
    } catch (err) {
      if (err instanceof NoAnswerError) this.conn.drop();
    } finally {
      this.probing = false;
    }
  }

  /** Ticks are only a sanity check: the state and the measured offset drive the display. */
  checkTick(st, times) {
    if (!st || st.status !== 'running' || !times) return;
    const p = st.players.find((q) => q.id === st.activePlayer);
    const told = p ? Number(times[String(p.id)]) : NaN;
    if (!p || !Number.isFinite(told)) return;
    const ours = remainingAt(st, p, this.clock.now());
    if (Math.abs(ours - told) > TICK_TOLERANCE_MS && Date.now() - this.lastResync > MIN_RESYNC_GAP_MS) {
      this.lastResync = Date.now();
      this.clock.markStale();
      this.probe(3);
    }
  }
}
