// The app: wires the connection, the screens and the stored tokens together.
//
// The server is the only source of truth. This file keeps the newest state it has seen (by
// `version`) and knows which game the user wants to be in; after every (re)connection
// session.js takes back whatever this browser holds in that game (seat, host rights) or at
// least re-joins it as a spectator, without the user doing anything.

import { Sounds } from './audio.js';
import { Board, passBlockOf, seatOf } from './board.js';
import { ServerClock, speakDuration } from './clock.js';
import { Dialogs } from './dialogs.js';
import { byId, h, hydrateIcons } from './dom.js';
import { GAME_NOT_FOUND, NOT_IN_GAME } from './errors.js';
import { announce, flashError, showNotice } from './feedback.js';
import { Home, isCode, normaliseCode } from './home.js';
import { HostControls } from './host.js';
import { installShortcuts } from './keyboard.js';
import { Lobby } from './lobby.js';
import { changes, statusLine } from './narrate.js';
import { Connection, ServerError } from './net.js';
import { Presets } from './presets.js';
import { Session } from './session.js';
import { Spectator } from './spectator.js';
import * as store from './store.js';
import { TableMode } from './table.js';
import { TableRules } from './table-rules.js';
import { TableTools } from './tools.js';
import { TimeSync } from './timesync.js';
import { TurnSystems, passBlockText } from './turns.js';
import { ScreenLock } from './wakelock.js';

hydrateIcons();

const app = {
  clientId: null,
  gameId: null,
  state: null,
  version: 0,
  screen: 'home',
  // where to report a failed join until the first state of the game arrives
  entryError: null,
  // whether showing the game adds a history entry (Back then returns home)
  pushUrl: false,
  resumeSeq: 0,
  busy: new Set(),
  wasConnected: false,
};

const clock = new ServerClock();
const sounds = new Sounds(store.isMuted());
let pointerInteraction = false;
const dialogs = new Dialogs(() => pointerInteraction);
const conn = new Connection(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws?ticks=0`, {
  frame: onFrame,
  status: onConnectionStatus,
});
const timeSync = new TimeSync(conn, clock);
const session = new Session(app, conn, exitToHome);
const host = new HostControls({ state: () => app.state, dialogs, clock, act, seats: () => tableRules.seats });

const home = new Home({
  create: (settings, errorNode, button) => {
    const withTurns = turns.createSettings(settings);
    const withRules = tools.createSettings(withTurns === null ? null : tableRules.createSettings(withTurns));
    if (withRules !== null && lobby.readCreate()) createGame(withRules, errorNode, button);
  },
  join: (code, errorNode) => enterGame(code, errorNode),
  forget: (code) => {
    const forget = () => {
      store.forgetGame(code);
      home.renderRecent();
    };
    // a seat's or the host's token lives only here: forgotten, it is gone for good
    const saved = store.getGame(code);
    const holds = [saved?.seat ? `seat ${saved.seat.playerId}` : null, saved?.hostToken ? 'the host role' : null].filter(Boolean);
    if (holds.length === 0) {
      forget();
      return;
    }
    dialogs.ask(
      { title: `Forget game ${code}?`, message: `This device holds ${holds.join(' and ')} in that game, and only the token saved here can take ${holds.length > 1 ? 'them' : 'it'} back.`, confirmLabel: 'Forget' },
      forget,
    );
  },
});

// Every module that adds fields to the create form is built before the presets, so its
// fields are remembered (and filled back in) with the others.
const tableRules = new TableRules({ state: () => app.state, gameId: () => app.gameId, identity, act, dialogs, clock });
const lobby = new Lobby({ state: () => app.state, gameId: () => app.gameId, identity, act, dialogs, clock, join: (code, err) => enterGame(code, err), exit: exitToHome });
lobby.install(tableRules.place);
const turns = new TurnSystems({ state: () => app.state, gameId: () => app.gameId, identity, act, dialogs, clock });
const tools = new TableTools({ state: () => app.state, gameId: () => app.gameId, identity, act, dialogs });
const presets = new Presets(byId('create-form'), (question, run) => dialogs.ask(question, run));
const screenLock = new ScreenLock();

const board = new Board(byId('board'), {
  tap: (pid, action, err) => {
    if (action === 'claim') act('claim', { playerId: pid }, err);
    else if (action === 'pass') passTurn();
    else act('switch', { playerId: pid }, err);
  },
  claim: (pid, err) => act('claim', { playerId: pid }, err),
  release: async (pid, err) => {
    const gid = app.gameId;
    // while waiting the server clears the seat's token: ours is worthless from now on
    if ((await act('unclaim', {}, err)) !== null) store.dropSeat(gid);
  },
  rename: async (pid, name, err) => {
    if ((await act('updatePlayer', { playerId: pid, name }, err)) === null) renderGame(null);
  },
  update: (pid, fields, err) => act('updatePlayer', { playerId: pid, ...fields }, err),
  hostMenu: (pid, err) => host.playerMenu(pid, err),
});
const tableMode = new TableMode(byId('board'), byId('btn-table'));
const spectator = new Spectator((pid, err) => act('claim', { playerId: pid }, err));

// -- helpers ------------------------------------------------------------------------------

function playerById(pid) {
  return app.state?.players.find((p) => p.id === pid);
}

function identity() {
  const st = app.state;
  const clientId = app.clientId;
  const mine = st?.players.find((p) => seatOf(p, clientId) === 'mine');
  return { clientId, isHost: st !== null && clientId !== null && st.ownerId === clientId, seat: mine ? mine.id : null };
}

function show(screen) {
  if (app.screen !== screen) window.scrollTo(0, 0);
  app.screen = screen;
  byId('home').hidden = screen !== 'home';
  byId('game').hidden = screen !== 'game';
  document.body.dataset.screen = screen;
  screenLock.want(screen === 'game' && app.state?.status === 'running');
  document.title = screen === 'game' && app.gameId ? `${app.gameId} · Tap or Tarp` : 'Tap or Tarp';
}

function setUrl(gameId, push) {
  const url = gameId ? `/?game=${gameId}` : '/';
  if (location.pathname + location.search === url) return;
  if (push) history.pushState(null, '', url);
  else history.replaceState(null, '', url);
}

/**
 * Sends a game action; its error (if any) is shown in `errorNode`. Resolves with the reply,
 * or null when it failed (never rejects: callers only decide what to do on success).
 */
async function act(type, data = {}, errorNode = byId('game-error'), busyKey = null) {
  const gid = app.gameId;
  flashError(errorNode, '');
  if (busyKey !== null) {
    app.busy.add(busyKey);
    renderControls();
  }
  try {
    const reply = await conn.request(type, data);
    if (app.gameId === gid) tableRules.afterAction(type, data, reply);
    return reply;
  } catch (err) {
    // the person has moved on: this answer is about a game no longer shown, and must not
    // throw them out of (or forget) the one they are in now
    if (app.gameId !== gid) return null;
    if (err instanceof ServerError && err.code === GAME_NOT_FOUND && gid) {
      store.forgetGame(gid);
      exitToHome(`Game ${gid} no longer exists.`);
    } else if (err instanceof ServerError && err.code === NOT_IN_GAME && app.gameId) {
      session.resume();
      flashError(errorNode, 'Rejoining the game… please try again.');
    } else {
      flashError(errorNode, err.message);
    }
    return null;
  } finally {
    if (busyKey !== null) {
      app.busy.delete(busyKey);
      renderControls();
    }
  }
}

// -- connection ---------------------------------------------------------------------------

function onConnectionStatus(status) {
  const node = byId('conn');
  node.dataset.state = status;
  byId('conn-text').textContent = { connecting: 'Connecting…', connected: 'Connected', reconnecting: 'Reconnecting…', offline: 'Offline' }[status];
  if (status === 'connected') {
    if (app.wasConnected && app.gameId) announce('Reconnected.');
    app.wasConnected = true;
  } else if (app.wasConnected && app.gameId) {
    announce(status === 'offline' ? 'You are offline.' : 'Connection lost. Reconnecting.');
  }
  renderControls();
}

// -- frames -------------------------------------------------------------------------------

function onFrame(msg) {
  const d = msg.data;
  switch (msg.type) {
    case 'clientId':
      // a live instance took this socket: whatever restart was announced is over, in a
      // game or not (resuming the game may still fail, but that is not the restart)
      byId('banner').hidden = true;
      app.clientId = typeof d.clientId === 'string' ? d.clientId : null;
      // a new socket: the state it brings is the game's as the server now has it, even an
      // older version (a failover lost commits this page saw); only one socket's frames cross
      app.version = 0;
      timeSync.connected();
      session.resume();
      break;
    case 'created':
      if (isCode(d.gameId)) {
        store.saveHostToken(d.gameId, d.hostToken);
        app.entryError = byId('create-error');
        beginGame(d.gameId, { push: true, reveal: false });
      }
      break;
    case 'claimed':
    case 'reconnected':
      session.seatConfirmed(d);
      break;
    case 'state':
      onState(d);
      break;
    case 'tick':
      timeSync.checkTick(app.state, d.times);
      break;
    case 'warning':
      onWarning(d);
      break;
    case 'timeout':
      onTimeout(d);
      break;
    case 'shutdown_warning':
      byId('banner-text').textContent = 'The server is restarting. You will be reconnected automatically.';
      byId('banner').hidden = false;
      break;
    case 'error':
      // errors answering a request are shown by whoever made it
      if (typeof msg.requestId !== 'string') {
        if (app.screen === 'game') flashError(byId('game-error'), String(d.message ?? 'Error'));
        else home.notice(String(d.message ?? 'Error'));
      }
      break;
    default:
      if (!lobby.onFrame(msg) && !turns.onFrame(msg) && !tableRules.onFrame(msg)) tools.onFrame(msg);
      break;
  }
}

function isState(st) {
  return st && typeof st.id === 'string' && Array.isArray(st.players) && Number.isFinite(st.version) && Number.isFinite(st.serverTime);
}

function onState(st) {
  if (!isState(st) || st.id !== app.gameId) return;
  // broadcasts and replies can cross: an older state never replaces a newer one
  if (app.state !== null && st.version < app.version) return;
  const prev = app.state;
  app.state = st;
  app.version = st.version;
  if (prev === null) {
    app.entryError = null;
    store.touchGame(st.id);
    setUrl(st.id, app.pushUrl);
    show('game');
  }
  renderGame(prev);
}

function onWarning(d) {
  const p = playerById(d.playerId);
  if (!p || !Number.isFinite(d.threshold)) return;
  const text = `${p.name}: ${speakDuration(d.threshold)} left`;
  showNotice('warning', text);
  announce(text);
  sounds.warning(d.threshold);
  if (seatOf(p, app.clientId) === 'mine') sounds.vibrate([200, 100, 200]);
}

function onTimeout(d) {
  const p = playerById(d.playerId);
  if (!p) return;
  const text = `${p.name} ran out of time`;
  showNotice('timeout', text);
  announce(`${text}. The clock is paused.`);
  sounds.timeout();
  if (seatOf(p, app.clientId) === 'mine') sounds.vibrate([500, 200, 500, 200, 800]);
}

// -- screens ------------------------------------------------------------------------------

/**
 * Switches to `gameId`: its next state is rendered. `reveal` shows the game screen at once
 * (a link or a reload: there is nothing else to show); a join from the home form keeps the
 * form in view until the game answers, so a mistyped code fails where it was typed.
 */
function beginGame(gameId, { push, reveal }) {
  if (app.gameId !== gameId) {
    app.state = null;
    app.version = 0;
    board.reset();
  }
  app.gameId = gameId;
  app.pushUrl = push;
  dialogs.closeAll();
  byId('game-code').textContent = gameId;
  byId('share-link').value = `${location.origin}/?game=${gameId}`;
  // drawn once the game answers (renderGame): a mistyped or deleted code gets no image,
  // which the service would refuse and the browser log as a failed load
  byId('share-qr').removeAttribute('src');
  byId('copy-status').textContent = '';
  byId('notice').hidden = true;
  flashError(byId('game-error'), '');
  byId('status-text').textContent = `Joining game ${gameId}…`;
  byId('status-hint').textContent = '';
  if (reveal) {
    setUrl(gameId, push);
    show('game');
  }
}

function enterGame(code, errorNode = null, { push = true, reveal = false } = {}) {
  if (app.gameId === code && app.state !== null) {
    show('game');
    return;
  }
  if (!conn.connected && errorNode) {
    // the next connection resumes this game by itself
    flashError(errorNode, 'Not connected yet. Joining as soon as the connection is back…');
  }
  app.entryError = errorNode;
  beginGame(code, { push, reveal });
  session.resume();
}

function exitToHome(message = '') {
  app.gameId = null;
  app.state = null;
  app.version = 0;
  session.cancel();
  board.reset();
  dialogs.closeAll();
  byId('banner').hidden = true;
  setUrl(null, false);
  show('home');
  home.renderRecent();
  if (app.entryError && message) flashError(app.entryError, message);
  else home.notice(message);
  app.entryError = null;
}

function leaveGame() {
  const st = app.state;
  const gid = app.gameId;
  if (gid === null) return;
  // an explicit leave while waiting gives the seat up for others (the server clears its
  // token); once the game runs the seat is kept, so the token stays for a later rejoin
  if (st && st.status === 'waiting' && identity().seat !== null) store.dropSeat(gid);
  if (conn.connected) conn.request('leave').catch(() => {});
  exitToHome();
}

async function createGame(settings, errorNode, button) {
  if (!conn.connected) {
    flashError(errorNode, 'Not connected to the server yet. Please try again in a moment.');
    return;
  }
  button.disabled = true;
  try {
    // the `created` frame stores the host token and opens the game
    await conn.request('create', { settings });
    presets.rememberLast();
    await lobby.afterCreate();
  } catch (err) {
    flashError(errorNode, err.message);
  } finally {
    button.disabled = false;
  }
}

// -- game rendering -----------------------------------------------------------------------

function renderGame(prev) {
  const st = app.state;
  if (st === null) return;
  const me = identity();
  board.render(st, me);
  tableMode.apply();
  spectator.render(st, me);
  screenLock.want(app.screen === 'game' && st.status === 'running');
  tableRules.render(st, me);
  lobby.render(st, me);
  tools.render(st, me);
  renderControls();
  renderStatus(st, me);
  turns.render(st, me);
  byId('invite').hidden = st.status !== 'waiting';
  // the service draws the join link as a QR code for the phones at the table (same origin)
  const qr = `/qr?game=${encodeURIComponent(st.id)}`;
  if (byId('share-qr').getAttribute('src') !== qr) byId('share-qr').src = qr;
  if (prev !== null) announceChanges(prev, st, me);
}

function renderStatus(st, me) {
  const line = statusLine(st, me);
  byId('status-text').textContent = line.text;
  // the keyboard part only where a keyboard is likely (see .key-hint in the CSS)
  byId('status-hint').replaceChildren(line.hint, ...(line.keyHint ? [h('span', { class: 'key-hint', text: line.keyHint })] : []));
  byId('game').dataset.status = st.status;
}

function renderControls() {
  const st = app.state;
  const me = identity();
  const connected = conn.connected;
  const status = st?.status;
  const seated = me.isHost || me.seat !== null;
  const start = byId('btn-start');
  start.hidden = status !== 'waiting';
  start.disabled = !connected || !seated || app.busy.has('start');
  const pause = byId('btn-pause');
  pause.hidden = status !== 'running' && status !== 'paused';
  pause.disabled = !connected || !seated || app.busy.has('pause');
  byId('btn-pause-label').textContent = status === 'paused' ? 'Resume' : 'Pause';
  pause.dataset.mode = status === 'paused' ? 'resume' : 'pause';
  const pass = byId('btn-pass');
  // while priority or targets hold the turn the pass is not offered: #turn-note says why
  pass.hidden = (status !== 'running' && status !== 'paused') || (st !== null && passBlockOf(st) !== null);
  pass.disabled = !connected || !canPass() || app.busy.has('pass');
  byId('host-controls').hidden = !me.isHost;
  byId('btn-reset').disabled = !connected || app.busy.has('reset');
}

function canPass() {
  const st = app.state;
  // the server passes the turn only in a running game (NOT_RUNNING otherwise)
  if (!st || st.status !== 'running' || passBlockOf(st) !== null) return false;
  const me = identity();
  return me.isHost || (me.seat !== null && me.seat === st.activePlayer);
}

function announceChanges(prev, st, me) {
  const { sentences, sounds: tones } = changes(prev, st, me);
  if (sentences.length > 0) announce(sentences.join(' '));
  for (const tone of tones) sounds[tone]();
  if (prev.status !== 'running' && st.status === 'running') byId('notice').hidden = true;
}

// -- controls -----------------------------------------------------------------------------

function passTurn() {
  if (!canPass()) {
    const why = app.state ? passBlockText(app.state) : null;
    if (why !== null) flashError(byId('game-error'), why);
    else flashError(byId('game-error'), 'Only the player whose turn it is, or the host, can pass the turn.');
    return;
  }
  if (!app.busy.has('pass')) act('passTurn', {}, byId('game-error'), 'pass');
}

function togglePause() {
  const status = app.state?.status;
  if ((status === 'running' || status === 'paused') && !app.busy.has('pause')) act('pause', {}, byId('game-error'), 'pause');
}

function setMuted(muted) {
  sounds.setMuted(muted);
  store.setMuted(muted);
  const button = byId('mute');
  button.setAttribute('aria-pressed', muted ? 'true' : 'false');
  button.dataset.muted = muted ? 'true' : 'false';
}

async function copyLink() {
  const input = byId('share-link');
  const status = byId('copy-status');
  let copied = false;
  if (navigator.clipboard && window.isSecureContext) {
    try {
      await navigator.clipboard.writeText(input.value);
      copied = true;
    } catch {
      copied = false;
    }
  }
  if (!copied) {
    // plain http on a LAN has no Clipboard API: the old way still works there
    input.focus();
    input.select();
    try {
      copied = document.execCommand('copy');
    } catch {
      copied = false;
    }
  }
  status.textContent = copied ? 'Link copied.' : 'Select the link above and copy it.';
}

byId('btn-start').addEventListener('click', () => act('start', {}, byId('game-error'), 'start'));
byId('btn-pause').addEventListener('click', togglePause);
byId('btn-pass').addEventListener('click', passTurn);
byId('btn-leave').addEventListener('click', () => {
  const st = app.state;
  const me = identity();
  // leaving a started game is a choice to confirm for whoever plays or hosts in it
  if (st && (st.status === 'running' || st.status === 'paused') && (me.isHost || me.seat !== null)) {
    dialogs.ask({ title: 'Leave this game?', message: 'The clocks keep running without you. Your seat is kept: rejoin it from My recent games.', confirmLabel: 'Leave' }, leaveGame);
  } else {
    leaveGame();
  }
});
byId('btn-copy').addEventListener('click', copyLink);
byId('btn-notice-close').addEventListener('click', () => (byId('notice').hidden = true));
host.install();
byId('mute').addEventListener('click', () => setMuted(!sounds.muted));

installShortcuts({
  passTurn: () => {
    if (app.screen !== 'game' || !app.state) return false;
    passTurn();
    return true;
  },
  switchTo: (n) => {
    const st = app.state;
    if (app.screen !== 'game' || !st || n > st.players.length || st.status === 'finished') return false;
    act('switch', { playerId: n });
    return true;
  },
  togglePause: () => {
    if (app.screen !== 'game' || !app.state) return false;
    togglePause();
    return true;
  },
  toggleMute: () => {
    setMuted(!sounds.muted);
    return true;
  },
});

// Audio may only start from a gesture; every tap or key press (re)unlocks it, which also
// recovers a context the OS suspended (a phone call on iOS).
for (const type of ['pointerdown', 'keydown']) document.addEventListener(type, () => sounds.unlock(), { capture: true });
document.addEventListener('click', (e) => (pointerInteraction = e.detail > 0), { capture: true });
document.addEventListener('keydown', () => (pointerInteraction = false), { capture: true });
// A button clicked with a pointer must not keep focus, or the next Space press would click
// it again instead of passing the turn. Keyboard activation (detail 0) keeps focus.
document.addEventListener('click', (e) => {
  const button = e.detail > 0 && e.target instanceof Element ? e.target.closest('button') : null;
  if (button && !button.closest('dialog')) button.blur();
});
document.addEventListener('visibilitychange', () => {
  if (document.visibilityState !== 'visible') return;
  conn.reconnectNow();
  timeSync.probe(2);
});
window.addEventListener('popstate', () => {
  const code = normaliseCode(new URLSearchParams(location.search).get('game'));
  if (!code && app.gameId) leaveGame();
  else if (isCode(code) && code !== app.gameId) enterGame(code, null, { push: false, reveal: true });
});
timeSync.startPeriodic();

function frame() {
  if (app.screen === 'game') board.frame(clock.now());
  requestAnimationFrame(frame);
}

setMuted(sounds.muted);
home.renderRecent();
const initial = normaliseCode(new URLSearchParams(location.search).get('game'));
if (isCode(initial)) {
  enterGame(initial, byId('join-error'), { push: false, reveal: true });
} else {
  if (initial) home.notice('That link does not contain a valid game code.');
  setUrl(null, false);
  show('home');
}
renderControls();
conn.start();
requestAnimationFrame(frame);
