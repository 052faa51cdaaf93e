// What this browser remembers between visits, in localStorage: per game the seat token and
// the host token (so a reload or a dropped connection gets both back without asking), when
// the game was last seen (the "recent games" list), and the mute switch.
//
// Storage can be full, disabled or edited by hand: every read is validated and every write
// may fail without breaking the app.

const GAMES_KEY = 'tapotarp.games.v1';
const MUTE_KEY = 'tapotarp.muted';
const MAX_GAMES = 12;
// the server's default token lifetime; older entries cannot reconnect anything
const MAX_AGE_MS = 7 * 24 * 3600 * 1000;
const CODE = /^[A-Z0-9]{6}$/;

function isToken(v) {
  return typeof v === 'string' && v.length > 0 && v.length <= 128;
}

function clean(gameId, raw) {
  if (!CODE.test(gameId) || !raw || typeof raw !== 'object') return null;
  const entry = { gameId, lastSeen: Number(raw.lastSeen) || 0 };
  if (isToken(raw.hostToken)) entry.hostToken = raw.hostToken;
  const seat = raw.seat;
  if (seat && Number.isInteger(seat.playerId) && seat.playerId >= 1 && seat.playerId <= 8 && isToken(seat.token)) {
    entry.seat = { playerId: seat.playerId, token: seat.token };
  }
  return entry;
}

function readAll() {
  let parsed;
  try {
    parsed = JSON.parse(localStorage.getItem(GAMES_KEY) ?? '{}');
  } catch {
    return {};
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return {};
  const out = {};
  for (const [id, raw] of Object.entries(parsed)) {
    const entry = clean(id, raw);
    if (entry) out[id] = entry;
  }
  return out;
}

function writeAll(games) {
  const now = Date.now();
  const kept = Object.values(games)
    .filter((g) => now - g.lastSeen < MAX_AGE_MS)
    .sort((a, b) => b.lastSeen - a.lastSeen)
    .slice(0, MAX_GAMES);
  try {
    localStorage.setItem(GAMES_KEY, JSON.stringify(Object.fromEntries(kept.map((g) => [g.gameId, g]))));
  } catch {
    // private mode or quota: the app still works, it just forgets on reload
  }
}

function update(gameId, change) {
  const games = readAll();
  const entry = games[gameId] ?? { gameId, lastSeen: 0 };
  change(entry);
  entry.lastSeen = Date.now();
  games[gameId] = entry;
  writeAll(games);
}

export function getGame(gameId) {
  return readAll()[gameId] ?? null;
}

/** Records that this browser is in the game (for the recent list) without other changes. */
export function touchGame(gameId) {
  update(gameId, () => {});
}

export function saveHostToken(gameId, token) {
  if (isToken(token)) update(gameId, (e) => (e.hostToken = token));
}

export function saveSeat(gameId, playerId, token) {
  if (isToken(token)) update(gameId, (e) => (e.seat = { playerId, token }));
}

export function dropSeat(gameId) {
  update(gameId, (e) => delete e.seat);
}

export function dropHostToken(gameId) {
  update(gameId, (e) => delete e.hostToken);
}

export function forgetGame(gameId) {
  const games = readAll();
  delete games[gameId];
  writeAll(games);
}

/** Newest first. */
export function recentGames() {
  return Object.values(readAll()).sort((a, b) => b.lastSeen - a.lastSeen);
}

export function isMuted() {
  try {
    return localStorage.getItem(MUTE_KEY) === '1';
  } catch {
    return false;
  }
}

export function setMuted(muted) {
  try {
    localStorage.setItem(MUTE_KEY, muted ? '1' : '0');
  } catch {
    // not remembered, but still applied for this visit
  }
}
