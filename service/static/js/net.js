// The WebSocket: one connection, reconnected forever with capped exponential backoff and
// full jitter (so a restarted server is not hit by every phone at the same instant), and
// request/reply matching by requestId so an error is shown next to the control that
// caused it.

const BASE_DELAY_MS = 500;
const MAX_DELAY_MS = 10_000;
const REQUEST_TIMEOUT_MS = 8_000;

/** The reply that completes a request; earlier replies (`created` before `state`) are
 * delivered to the frame handler like any other frame. */
const FINAL_REPLY = { create: 'state', claim: 'claimed', leave: 'left', time: 'time', history: 'history' };
// the lobby's: a rename's state comes first; a deleted game sends no state at all
Object.assign(FINAL_REPLY, { renameGame: 'gameRenamed', endGame: 'gameEnded' });

/** The server refused the action: `message` is the server's text, fit to show as is;
 * `code` (one of errors.js, or another code of the server's table) is what to decide on. */
export class ServerError extends Error {
  constructor(message, code) {
    super(message);
    this.code = code;
  }
}

/** The action's fate is unknown (connection lost, or no answer in time). */
export class ConnectionError extends Error {}

/** Sent, but no answer in time: the socket may be dead without knowing it. */
export class NoAnswerError extends ConnectionError {}

let counter = 0;
const prefix = Array.from(crypto.getRandomValues(new Uint8Array(6)), (b) => b.toString(16).padStart(2, '0')).join('');

/** Unique per action. crypto.randomUUID is missing on plain http (a phone on the LAN),
 * getRandomValues is not. */
export function newRequestId() {
  counter += 1;
  return `${prefix}-${counter.toString(36)}`;
}

export class Connection {
  /**
   * @param {string} url
   * @param {{frame: (msg: object) => void, status: (s: string) => void}} handlers
   */
  constructor(url, handlers) {
    this.url = url;
    this.handlers = handlers;
    this.ws = null;
    this.attempt = 0;
    this.timer = 0;
    this.pending = new Map();
    this.status = 'connecting';
  }

  start() {
    window.addEventListener('online', () => {
      if (this.connected) this.setStatus('connected');
      else this.reconnectNow();
    });
    // a socket that is still open may well survive (a LAN without internet): trust it
    window.addEventListener('offline', () => {
      if (!this.connected) this.setStatus('offline');
    });
    this.open();
  }

  get connected() {
    return this.ws !== null && this.ws.readyState === WebSocket.OPEN;
  }

  setStatus(status) {
    if (status === this.status) return;
    this.status = status;
    this.handlers.status(status);
  }

  open() {
    clearTimeout(this.timer);
    let ws;
    try {
      ws = new WebSocket(this.url);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    ws.addEventListener('open', () => {
      if (this.ws !== ws) return;
      this.attempt = 0;
      this.setStatus('connected');
    });
    ws.addEventListener('message', (ev) => {
      if (this.ws === ws && typeof ev.data === 'string') this.receive(ev.data);
    });
    // 'error' is always followed by 'close', which is where recovery happens
    ws.addEventListener('close', () => {
      if (this.ws === ws) this.lost();
    });
  }

  lost() {
    this.ws = null;
    this.failPending('Connection lost. Reconnecting…');
    this.scheduleReconnect();
  }

  scheduleReconnect() {
    clearTimeout(this.timer);
    const ceiling = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** this.attempt);
    this.attempt = Math.min(this.attempt + 1, 20);
    this.setStatus(navigator.onLine === false ? 'offline' : 'reconnecting');
    this.timer = setTimeout(() => this.open(), Math.random() * ceiling);
  }

  /** Skip the wait (the network came back, or the tab became visible again). */
  reconnectNow() {
    if (this.ws === null) this.open();
  }

  /** Give up on a socket that stopped answering (a phone that changed networks can keep a
   * dead socket "open" for minutes) and start over. */
  drop() {
    const ws = this.ws;
    if (ws === null) return;
    try {
      ws.close(4000, 'unresponsive');
    } catch {
      // already closing
    }
    this.lost();
  }

  send(type, data = {}, requestId = undefined) {
    if (!this.connected) return false;
    const msg = { type, data };
    if (requestId !== undefined) msg.requestId = requestId;
    this.ws.send(JSON.stringify(msg));
    return true;
  }

  /** Sends an action and resolves with its final reply, or rejects with ServerError (the
   * server said no) or ConnectionError (not sent, or no answer). */
  request(type, data = {}, timeoutMs = REQUEST_TIMEOUT_MS) {
    const id = newRequestId();
    return new Promise((resolve, reject) => {
      if (!this.send(type, data, id)) {
        reject(new ConnectionError('Not connected. Reconnecting…'));
        return;
      }
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new NoAnswerError('No answer from the server. Please try again.'));
      }, timeoutMs);
      this.pending.set(id, { final: FINAL_REPLY[type] ?? 'state', resolve, reject, timer });
    });
  }

  failPending(message) {
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(new ConnectionError(message));
    }
    this.pending.clear();
  }

  receive(text) {
    let msg;
    try {
      msg = JSON.parse(text);
    } catch {
      return;
    }
    if (!msg || typeof msg !== 'object' || typeof msg.type !== 'string') return;
    if (msg.data === null || typeof msg.data !== 'object') msg.data = {};
    // the app sees every frame first, so a request's caller finds the state already applied
    this.handlers.frame(msg);
    const p = typeof msg.requestId === 'string' ? this.pending.get(msg.requestId) : undefined;
    if (!p) return;
    if (msg.type === 'error') {
      this.pending.delete(msg.requestId);
      clearTimeout(p.timer);
      p.reject(new ServerError(String(msg.data.message ?? 'Error'), String(msg.data.code ?? '')));
    } else if (msg.type === p.final) {
      this.pending.delete(msg.requestId);
      clearTimeout(p.timer);
      p.resolve(msg);
    }
  }
}
