// The server's error codes this client decides on. An `error` frame carries a `code` next to
// its `message`: the client acts on the code and only shows the message, so rewording a
// message cannot change what the client does. The server's table (service/errors.py
// ERROR_CODES, documented in docs/errors.md) defines every code; tests/test_client_codes.py
// fails if one here is not in it. Named exports, so a misspelt import fails loudly.

/** The game does not exist (never did, expired, or was removed). */
export const GAME_NOT_FOUND = 'GAME_NOT_FOUND';
/** The game code is not a string: nothing to look up. */
export const INVALID_GAME_CODE = 'INVALID_GAME_CODE';
/** This socket is in no game (a new connection): join or reconnect first. */
export const NOT_IN_GAME = 'NOT_IN_GAME';

// a seat token the server will not take back: forget it and carry on without
export const INVALID_TOKEN = 'INVALID_TOKEN';
export const TOKEN_EXPIRED = 'TOKEN_EXPIRED';
export const NO_TOKEN = 'NO_TOKEN';
export const PLAYER_NOT_FOUND = 'PLAYER_NOT_FOUND';
export const INVALID_PLAYER_ID = 'INVALID_PLAYER_ID';
/** The host token is not (or no longer) this game's. */
export const INVALID_HOST_TOKEN = 'INVALID_HOST_TOKEN';

// nothing was done, and the same request may succeed a moment later
export const STORAGE_UNAVAILABLE = 'STORAGE_UNAVAILABLE';
export const INTERNAL = 'INTERNAL';
