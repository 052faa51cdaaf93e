// Parsing and validation of the game settings the user types. Pure functions: the create
// form and the host's settings dialog share them, and the server's limits are mirrored
// here so that an invalid value is explained next to its field instead of being sent.

export const MAX_MS = 86_400_000;
export const MIN_CLOCK_MS = 1_000;
export const PENALTY_TYPES = ['warning', 'time_deduction', 'game_loss'];

export const DEFAULTS = Object.freeze({
  playerCount: 2,
  initialTime: 600_000,
  warningThresholds: [300_000, 60_000, 30_000],
  penaltyType: 'warning',
  penaltyTimeDeduction: 60_000,
});

const UNIT_MS = { h: 3_600_000, m: 60_000, min: 60_000, s: 1_000, sec: 1_000, ms: 1 };

/**
 * A duration typed by a person, in milliseconds, or NaN. A bare number is minutes, because
 * that is how people talk about game clocks ("a 10 minute game"); "90s", "1.5m", "1h",
 * "1:30" and "1:00:00" are accepted too. A decimal comma is accepted because phone keypads
 * in many locales only offer a comma.
 */
export function parseDuration(text) {
  const s = String(text).trim().toLowerCase().replace(/\s+/g, '');
  if (s === '') return NaN;
  const colon = /^(\d+):([0-5]\d)(?::([0-5]\d))?$/.exec(s);
  if (colon) {
    const [a, b, c] = [colon[1], colon[2], colon[3]].map((x) => (x === undefined ? undefined : Number(x)));
    return c === undefined ? (a * 60 + b) * 1000 : (a * 3600 + b * 60 + c) * 1000;
  }
  const unit = /^(\d+(?:[.,]\d*)?|[.,]\d+)(h|min|m|sec|s|ms)?$/.exec(s);
  if (!unit) return NaN;
  const value = Number(unit[1].replace(',', '.'));
  return Math.round(value * UNIT_MS[unit[2] ?? 'm']);
}

/** The inverse of parseDuration for pre-filling fields: the shortest exact spelling. */
export function formatDuration(ms) {
  if (ms % 60_000 === 0) return String(ms / 60_000);
  if (ms % 1_000 === 0) {
    const s = ms / 1_000;
    if (s < 60) return `${s}s`;
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    const rest = String(s % 60).padStart(2, '0');
    return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${rest}` : `${m}:${rest}`;
  }
  return `${ms}ms`;
}

/** Whole seconds as the clock shows them (m:ss or h:mm:ss), for the host's time field. */
export function formatClockInput(ms) {
  const total = Math.round(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

function describeLimit(ms) {
  return ms >= 3_600_000 ? `${ms / 3_600_000} h` : ms >= 60_000 ? `${ms / 60_000} min` : `${ms / 1000} s`;
}

function parseClock(text, what) {
  const ms = parseDuration(text);
  if (Number.isNaN(ms)) return { error: `Enter ${what} like 10 (minutes), 90s or 1:30.` };
  if (ms < MIN_CLOCK_MS || ms > MAX_MS) {
    return { error: `${capitalise(what)} must be between ${describeLimit(MIN_CLOCK_MS)} and ${describeLimit(MAX_MS)}.` };
  }
  return { value: ms };
}

function capitalise(s) {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

export function parseThresholds(text) {
  const parts = String(text)
    .split(/[,;]|\s+(?=\d)/)
    .map((p) => p.trim())
    .filter((p) => p !== '');
  if (parts.length === 0) return { error: 'Enter at least one warning time, e.g. 5, 1, 30s.' };
  if (parts.length > 10) return { error: 'At most 10 warning times.' };
  const values = [];
  for (const part of parts) {
    const ms = parseDuration(part);
    if (Number.isNaN(ms)) return { error: `“${part}” is not a time. Use minutes (5), seconds (30s) or 1:30.` };
    if (ms < MIN_CLOCK_MS || ms > MAX_MS) {
      return { error: `Warning times must be between ${describeLimit(MIN_CLOCK_MS)} and ${describeLimit(MAX_MS)}.` };
    }
    values.push(ms);
  }
  return { value: [...new Set(values)].sort((a, b) => b - a) };
}

function parsePenalty(type, deductionText) {
  if (!PENALTY_TYPES.includes(type)) return { errors: { penaltyType: 'Choose a penalty.' } };
  if (type !== 'time_deduction') return { value: { penaltyType: type, penaltyTimeDeduction: 0 } };
  const ms = parseDuration(deductionText);
  if (Number.isNaN(ms)) return { errors: { deduction: 'Enter the time to deduct, e.g. 1 (minute) or 30s.' } };
  if (ms < MIN_CLOCK_MS || ms > MAX_MS) {
    return { errors: { deduction: `The deduction must be between ${describeLimit(MIN_CLOCK_MS)} and ${describeLimit(MAX_MS)}.` } };
  }
  return { value: { penaltyType: type, penaltyTimeDeduction: ms } };
}

/**
 * The create form's raw strings -> {settings} or {errors: {field: message}}.
 * Fields: players, time, thresholds, penaltyType, deduction.
 */
export function validateCreate(raw) {
  const errors = {};
  const players = String(raw.players).trim();
  const count = Number(players);
  if (!/^\d+$/.test(players) || count < 2 || count > 8) errors.players = 'Choose 2 to 8 players.';
  const time = parseClock(raw.time, 'a starting time');
  if (time.error) errors.time = time.error;
  const thresholds = parseThresholds(raw.thresholds);
  if (thresholds.error) errors.thresholds = thresholds.error;
  const penalty = parsePenalty(raw.penaltyType, raw.deduction);
  if (penalty.errors) Object.assign(errors, penalty.errors);
  if (Object.keys(errors).length > 0) return { errors };
  return {
    settings: {
      playerCount: count,
      initialTime: time.value,
      warningThresholds: thresholds.value,
      ...penalty.value,
    },
  };
}

/** The host's settings dialog: {thresholds, penaltyType, deduction} -> {update} or {errors}. */
export function validateSettingsUpdate(raw) {
  const errors = {};
  const thresholds = parseThresholds(raw.thresholds);
  if (thresholds.error) errors.thresholds = thresholds.error;
  const penalty = parsePenalty(raw.penaltyType, raw.deduction);
  if (penalty.errors) Object.assign(errors, penalty.errors);
  if (Object.keys(errors).length > 0) return { errors };
  return { update: { warningThresholds: thresholds.value, ...penalty.value } };
}

/** A clock value typed by the host (0 allowed: the server lets a host zero a clock). */
export function validateClockEdit(text) {
  const ms = parseDuration(text);
  if (Number.isNaN(ms)) return { error: 'Enter a time like 10 (minutes), 90s or 4:30.' };
  if (ms < 0 || ms > MAX_MS) return { error: `The time must be between 0 and ${describeLimit(MAX_MS)}.` };
  return { value: ms };
}

export function penaltyLabel(type, deductionMs) {
  if (type === 'time_deduction') return `Time deduction (${formatDuration(deductionMs)}${deductionMs % 60_000 === 0 ? ' min' : ''})`;
  if (type === 'game_loss') return 'Game loss';
  return 'Warning only';
}
