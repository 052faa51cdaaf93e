// Getting back into the game after every (re)connection with what this browser holds there:
// the seat token and the host token from localStorage, or nothing (a plain join as a
// spectator). A token the server refuses is forgotten and the next attempt goes without it.

import { byId } from './dom.js';
import {
  GAME_NOT_FOUND,
  INTERNAL,
  INVALID_GAME_CODE,
  INVALID_HOST_TOKEN,
  INVALID_PLAYER_ID,
  INVALID_TOKEN,
  NO_TOKEN,
  PLAYER_NOT_FOUND,
  STORAGE_UNAVAILABLE,
  TOKEN_EXPIRED,
} from './errors.js';
import { flashError } from './feedback.js';
import { isCode } from './home.js';
import { ServerError } from './net.js';
import * as store from './store.js';

// reconnect errors that mean "this seat token is no good": forget it and carry on without
const SEAT_REJECTED = new Set([INVALID_TOKEN, TOKEN_EXPIRED, PLAYER_NOT_FOUND, NO_TOKEN, INVALID_PLAYER_ID]);
const TRANSIENT = new Set([STORAGE_UNAVAILABLE, INTERNAL]);
// seat and host token each dropped once, then a plain join: never more than this
const MAX_ATTEMPTS = 4;
const TRANSIENT_RETRY_MS = 2_000;

export class Session {
  /**
   * @param {object} app  the app's shared state (gameId, resumeSeq, entryError)
   * @param {import('./net.js').Connection} conn
   * @param {(message: string) => void} exitToHome
   */
  constructor(app, conn, exitToHome) {
    this.app = app;
    this.conn = conn;
    this.exitToHome = exitToHome;
  }

  /** Any resume still running (or waiting to retry) gives up: the game it serves was left
   * or replaced. */
  cancel() {
    this.app.resumeSeq += 1;
  }

  /** A seat this socket now holds (`claimed`, `reconnected`). */
  seatConfirmed(d) {
    // a confirmation that arrives after leaving is for a seat the service has already
    // given up again (leaving while waiting): storing it would only fail the next rejoin
    if (d.gameId === this.app.gameId && isCode(d.gameId) && Number.isInteger(d.playerId)) store.saveSeat(d.gameId, d.playerId, d.token);
  }

  /** After every (re)connection: take back this browser's seat and host rights, or join. */
  async resume() {
    const { app, conn } = this;
    const gid = app.gameId;
    if (gid === null || !conn.connected) return;
    const seq = ++app.resumeSeq;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const saved = store.getGame(gid);
      const data = { gameId: gid };
      if (saved?.seat) Object.assign(data, { playerId: saved.seat.playerId, token: saved.seat.token });
      if (saved?.hostToken) data.hostToken = saved.hostToken;
      const type = data.token || data.hostToken ? 'reconnect' : 'join';
      try {
        await conn.request(type, data);
        return;
      } catch (err) {
        if (seq !== app.resumeSeq || app.gameId !== gid || !(err instanceof ServerError)) return;
        if (!this.recover(err, type, data, gid, seq)) return;
      }
    }
  }

  /** Whether another attempt may succeed (a token was dropped). Decided on the error's
   * code; its message is only shown. */
  recover(err, type, data, gid, seq) {
    const { code, message } = err;
    const gameError = byId('game-error');
    if (code === GAME_NOT_FOUND || code === INVALID_GAME_CODE) {
      store.forgetGame(gid);
      this.exitToHome(`Game ${gid} was not found. It may have ended or expired.`);
      return false;
    }
    if (TRANSIENT.has(code)) {
      flashError(gameError, `${message}. Retrying…`);
      setTimeout(() => seq === this.app.resumeSeq && this.resume(), TRANSIENT_RETRY_MS);
      return false;
    }
    if (type === 'join') {
      flashError(this.app.entryError ?? gameError, message);
      return false;
    }
    if (code === INVALID_HOST_TOKEN || (SEAT_REJECTED.has(code) && !data.token)) {
      store.dropHostToken(gid);
      flashError(gameError, `Host rights could not be restored (${message}).`);
      return true;
    }
    if (SEAT_REJECTED.has(code)) {
      store.dropSeat(gid);
      flashError(gameError, `Your seat could not be restored (${message}).`);
      return true;
    }
    flashError(gameError, message);
    return false;
  }
}
