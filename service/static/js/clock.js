// Time: the estimate of the server's clock, and what a player's clock shows at a moment.
//
// The server never streams clock values we have to trust frame by frame: a state says each
// `timeRemaining` is exact at `serverTime`, and the active clock has run since then. So the
// display is a pure function of (last state, estimated server time now); nothing is
// decremented per frame, so nothing drifts, and the first frame after a sleeping tab wakes
// is already right.

export const WARNING_MS = 5 * 60_000;
export const CRITICAL_MS = 60_000;

const WINDOW = 8;

/**
 * Server time = Date.now() + offset. Each `time` probe gives offset = serverTime - (t0+t1)/2,
 * off by at most half its round trip; the probe with the smallest round trip among the
 * recent ones is the most trustworthy (NTP's rule), and a bounded window lets the estimate
 * follow a client clock that was adjusted.
 */
export class ServerClock {
  constructor(now = () => Date.now()) {
    this.localNow = now;
    this.samples = [];
    this.offset = 0;
    this.rtt = Infinity;
    this.stale = false;
  }

  get synced() {
    return this.samples.length > 0;
  }

  /** A new connection (maybe another instance, maybe after the device slept): older
   * samples still give the best guess until the first new one arrives, then they go. */
  markStale() {
    this.stale = true;
  }

  addSample(t0, serverTime, t1) {
    if (!(Number.isFinite(t0) && Number.isFinite(serverTime) && Number.isFinite(t1)) || t1 < t0) return;
    if (this.stale) {
      this.samples = [];
      this.stale = false;
    }
    this.samples.push({ rtt: t1 - t0, offset: serverTime - (t0 + t1) / 2 });
    if (this.samples.length > WINDOW) this.samples.shift();
    const best = this.samples.reduce((a, b) => (b.rtt < a.rtt ? b : a));
    this.offset = best.offset;
    this.rtt = best.rtt;
  }

  now() {
    return this.localNow() + this.offset;
  }
}

/** The ids of the players whose clocks run while the game runs (docs/protocol.md, the
 * `state` row; lua/lib/state.lua running_ids): the last of the interrupt stack, which holds
 * priority; else, while targets respond, every target still to respond at once; else the
 * active player. An eliminated player's clock never runs. Empty unless the game runs. */
export function runningIds(state) {
  if (state.status !== 'running') return new Set();
  const stack = Array.isArray(state.interruptingPlayers) ? state.interruptingPlayers : [];
  const awaiting = Array.isArray(state.awaitingPriority) ? state.awaitingPriority : [];
  let ids;
  if (stack.length > 0) ids = [stack[stack.length - 1]];
  else if (state.targetingState === 'resolving' && awaiting.length > 0) ids = awaiting;
  else ids = state.activePlayer === null || state.activePlayer === undefined ? [] : [state.activePlayer];
  const out = new Set();
  for (const pid of ids) {
    const p = state.players.find((q) => q.id === pid);
    if (p && !p.isEliminated) out.add(pid);
  }
  return out;
}

/** What a player's clock reads at `serverNow` (ms, never negative); `running` is
 * runningIds(state), which a caller drawing every clock computes once. */
export function remainingAt(state, player, serverNow, running = runningIds(state)) {
  let ms = player.timeRemaining;
  if (running.has(player.id)) ms -= Math.max(0, serverNow - state.serverTime);
  return Math.max(0, Math.round(ms));
}

/** The original's format: M:SS with the seconds rounded up (a clock showing 0:01 still has
 * time); below a minute M:SS.D with the deciseconds rounded down, where every tenth counts;
 * H:MM:SS from an hour up. */
export function formatClock(ms) {
  if (!(ms > 0)) return '0:00.0';
  if (ms < 60_000) {
    const tenths = Math.floor(ms / 100);
    return `0:${String(Math.floor(tenths / 10)).padStart(2, '0')}.${tenths % 10}`;
  }
  const total = Math.ceil(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

/** A spoken form for announcements ("2 seconds", "1 minute 30 seconds"). */
export function speakDuration(ms) {
  const total = Math.round(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const parts = [];
  if (h) parts.push(`${h} hour${h === 1 ? '' : 's'}`);
  if (m) parts.push(`${m} minute${m === 1 ? '' : 's'}`);
  if (s || parts.length === 0) parts.push(`${s} second${s === 1 ? '' : 's'}`);
  return parts.join(' ');
}

/** The style level of a clock: timeout (at zero), critical (< 60 s), warning (< 5 min). */
export function levelOf(ms, eliminated) {
  if (eliminated) return 'normal';
  if (ms <= 0) return 'timeout';
  if (ms < CRITICAL_MS) return 'critical';
  if (ms < WARNING_MS) return 'warning';
  return 'normal';
}
