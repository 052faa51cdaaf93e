"""Inbound frames: parse and validate into typed messages. Pure: no I/O.

The message types themselves, each with the validator it uses from here, are declared once
in service/messages.

Every rejection is an InvalidInput whose message is what the client sees (the original's
strings are kept where it had one), with a code from service/errors.py's table where a client
must tell it apart from other invalid input.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections.abc import Container
from dataclasses import dataclass
from typing import Any

import msgpack

from service import keys
from service.campaign import DEFAULT_PRESET, PRESETS
from service.errors import InvalidInput, error_for, malformed
from service.formats import FORMAT_KEYS, FormatSettings, create_format, format_updates

MAX_TIME = 86_400_000
MAX_NAME = 50
MAX_REQUEST_ID = 64
MAX_TOKEN = 128
PENALTY_TYPES = ("warning", "time_deduction", "game_loss")
DICE_SIDES = (2, 999)
#: the original's limit, in characters (code points: a text the original took is never longer here)
MAX_FEEDBACK = 255
MAX_FEEDBACK_ID = 64
#: feedback tokens are the 64 hex characters service/feedback.py issues
FEEDBACK_TOKEN = re.compile(r"[0-9a-f]{64}")
#: line breaks and tabs are part of a written text; other control characters are not
FEEDBACK_CONTROLS_ALLOWED = frozenset("\n\r\t")
#: HEAD's client palette ids (B6.9), the only colours a player can have (lua/lib/checks.lua
#: COLORS holds the same set): a fixed set, so no sent string is ever rendered (C29)
COLORS = ("red", "blue", "green", "yellow", "purple", "cyan", "orange", "pink", "lime", "teal", "indigo", "amber")
DEFAULT_GAME_NAME = "Game"
#: the modes a game may be created in (HEAD's); the first is the default
GAME_MODES = ("casual", "campaign")


@dataclass(frozen=True)
class Message:
    type: str
    data: dict[str, Any]
    request_id: str | None


def decode(text: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        raise InvalidInput("Invalid JSON") from None


def decode_msgpack(data: bytes) -> Any:
    """A frame of the `msgpack` subprotocol: the same envelope, MessagePack-encoded."""
    try:
        return msgpack.unpackb(data, raw=False)
    except (ValueError, TypeError, msgpack.ExtraData, msgpack.FormatError, msgpack.StackError):
        raise InvalidInput("Invalid msgpack") from None


def parse(text: str, known: Container[str]) -> Message:
    """Envelope checks shared by every type: JSON object, `type` (one of `known`), `data`,
    `requestId`. The known types are the registry's (service/messages: parse)."""
    return parse_obj(decode(text), known)


def parse_obj(obj: Any, known: Container[str]) -> Message:
    if not isinstance(obj, dict):
        raise InvalidInput("Invalid message format")
    rid = obj.get("requestId")
    if rid is not None and (not isinstance(rid, str) or not 0 < len(rid) <= MAX_REQUEST_ID):
        raise InvalidInput("Invalid requestId")
    mtype = obj.get("type")
    if not isinstance(mtype, str) or not mtype:
        raise InvalidInput("Invalid message type")
    if mtype not in known:
        raise malformed("UNKNOWN_TYPE")
    data = obj.get("data")
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise InvalidInput("Invalid message data")
    return Message(mtype, data, rid)


def request_id_in(obj: Any) -> str | None:
    """Best-effort requestId of a frame that failed validation, so the error can carry it."""
    rid = obj.get("requestId") if isinstance(obj, dict) else None
    return rid if isinstance(rid, str) and 0 < len(rid) <= MAX_REQUEST_ID else None


def integer(value: Any, lo: int, hi: int) -> int | None:
    """An integral JSON number within [lo, hi] (bools and fractional numbers are not)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and lo <= value <= hi:
        return value
    return None


def player_id(data: dict[str, Any]) -> int:
    pid = integer(data.get("playerId"), 1, 8)
    if pid is None:
        raise malformed("INVALID_PLAYER_ID")
    return pid


def move_seat(data: dict[str, Any]) -> tuple[int, int]:
    """moveSeat's seats: from one held seat to another, free one."""
    source = integer(data.get("fromPlayerId"), 1, 8)
    target = integer(data.get("toPlayerId"), 1, 8)
    if source is None or target is None:
        raise malformed("INVALID_PLAYER_ID")
    if source == target:
        raise InvalidInput("Invalid seat move: fromPlayerId and toPlayerId must be different seats")
    return source, target


def game_id(data: dict[str, Any]) -> str:
    raw = data.get("gameId")
    if not isinstance(raw, str):
        raise malformed("INVALID_GAME_CODE")
    gid = keys.normalize_game_id(raw)
    if not keys.is_valid_game_id(gid):
        raise error_for("GAME_NOT_FOUND")
    return gid


def thresholds(value: Any) -> tuple[int, ...] | None:
    if not isinstance(value, list) or not 1 <= len(value) <= 10:
        return None
    out = [integer(v, 1, MAX_TIME) for v in value]
    if any(v is None for v in out):
        return None
    return tuple(sorted({v for v in out if v is not None}, reverse=True))


@dataclass(frozen=True)
class TimeoutRules:
    """HEAD's timeout choice (B4): what losing lives or gaining drunk costs, how long the
    player has to choose (ms, counted while the game runs) and what the clock restarts from
    (ms). The defaults are HEAD's (DEFAULT_TIMEOUT_*)."""

    penalty_lives: int = 2
    penalty_drunk: int = 2
    grace_period: int = 30_000
    bonus_time: int = 60_000

    def to_settings(self) -> dict[str, int]:
        return {key: getattr(self, attr) for attr, (key, *_) in TIMEOUT_SETTINGS.items()}


#: the time controls (lua/lib/clocks.lua TIME_CONTROLS); the first is the default, today's clock
TIME_CONTROLS = ("suddenDeath", "fischer", "bronstein", "turnCap")
#: the bounds of timeControlMs: the Fischer increment, the Bronstein delay or the turn cap (ms)
CONTROL_MS = (1_000, 3_600_000)
#: the turn cap's warning lead when none is named: 10 s, or half a cap shorter than 20 s
DEFAULT_CAP_WARNING = 10_000
TIME_CONTROL_KEYS = ("timeControl", "timeControlMs", "turnCapWarningMs")


@dataclass(frozen=True)
class TimeControl:
    """A game's time control: sudden death (today's clock), a Fischer increment added to the
    player who passes, a Bronstein delay at the start of each turn, or a turn cap that passes
    the turn, with the cap's warning lead (ms before the cap; 0: no warning)."""

    kind: str = TIME_CONTROLS[0]
    amount_ms: int | None = None
    warning_ms: int | None = None

    def to_settings(self) -> dict[str, Any]:
        out: dict[str, Any] = {"timeControl": self.kind}
        if self.amount_ms is not None:
            out["timeControlMs"] = self.amount_ms
        if self.warning_ms is not None:
            out["turnCapWarningMs"] = self.warning_ms
        return out


@dataclass(frozen=True)
class GameSettings:
    """Validated creation settings, every field present."""

    player_count: int = 2
    initial_time: int = 600_000
    warning_thresholds: tuple[int, ...] = (300_000, 60_000, 30_000)
    penalty_type: str = "warning"
    penalty_time_deduction: int = 0
    #: the lobby name, mode and listing: fields of the game itself, not of its `settings`
    name: str = DEFAULT_GAME_NAME
    mode: str = "casual"
    listed: bool = True
    #: the turn bonus in ms (HEAD's settings.bonusTime); None: the game has none and its
    #: settings carry no bonusTime, as a v1 game's (create_settings decides the default)
    bonus_time: int | None = None
    #: HEAD's timeout choice; None: a v1 game, which times out as v1 did (pause, penalty type)
    timeout: TimeoutRules | None = None
    #: the campaign preset (a key of service/campaign.py PRESETS), for mode "campaign" only
    campaign_preset: str | None = None
    #: the format, starting life and loss rules (service/formats.py), always sent
    format: FormatSettings = FormatSettings()
    #: the time control; None: none named, sudden death (the settings carry no timeControl)
    time_control: TimeControl | None = None
    #: ms the host must be away before a seated player may take the role (claimHost); None:
    #: not given, the game's settings carry none and lua/lib/host.lua's default applies
    host_timeout: int | None = None
    #: ms a player may undo their own last action (0: only the host undoes); None: not
    #: stored, the default applies (lua/undo.lua)
    undo_window: int | None = None

    def to_json(self) -> str:
        extra: dict[str, Any] = {} if self.bonus_time is None else {"bonusTime": self.bonus_time}
        if self.timeout is not None:
            extra.update(self.timeout.to_settings())
        if self.campaign_preset is not None:
            extra["campaign"] = {"preset": self.campaign_preset, "config": PRESETS[self.campaign_preset].to_config()}
        extra.update(self.format.to_settings())
        if self.time_control is not None:
            extra.update(self.time_control.to_settings())
        if self.host_timeout is not None:
            extra["hostTimeout"] = self.host_timeout
        if self.undo_window is not None:
            extra["undoWindow"] = self.undo_window
        return json.dumps(
            {
                "playerCount": self.player_count,
                "initialTime": self.initial_time,
                "warningThresholds": list(self.warning_thresholds),
                "penaltyType": self.penalty_type,
                "penaltyTimeDeduction": self.penalty_time_deduction,
                "name": self.name,
                "mode": self.mode,
                "listed": self.listed,
                **extra,
            }
        )


#: HEAD's DEFAULT_BONUS_TIME and MAX_BONUS_TIME (ms)
DEFAULT_BONUS_TIME = 30_000
MAX_BONUS_TIME = 300_000
#: each TimeoutRules field: its settings key, its bounds, and the refusal of a value outside
#: them (HEAD clamped lives and drunk to 0..20 and the bonus to 0..300000, and took any grace,
#: C20; the grace's bounds are ours: time to read the choice, not so long that a table waits)
TIMEOUT_SETTINGS: dict[str, tuple[str, int, int, str]] = {
    "penalty_lives": ("timeoutPenaltyLives", 0, 20, "Invalid timeout penalty lives: an integer from 0 to 20"),
    "penalty_drunk": ("timeoutPenaltyDrunk", 0, 20, "Invalid timeout penalty drunk: an integer from 0 to 20"),
    "grace_period": (
        "timeoutGracePeriod",
        5_000,
        300_000,
        "Invalid timeout grace period: an integer from 5000 to 300000 (ms)",
    ),
    "bonus_time": (
        "timeoutBonusTime",
        0,
        MAX_BONUS_TIME,
        "Invalid timeout bonus time: an integer from 0 to 300000 (ms)",
    ),
}
TIMEOUT_KEYS = tuple(key for key, *_ in TIMEOUT_SETTINGS.values())
#: the undo settings (ours), valid in create and updateSettings (undo_window)
UNDO_SETTING_KEYS = ("undoWindow",)
MAX_UNDO_WINDOW = 300_000
SETTING_KEYS = (
    "playerCount",
    "initialTime",
    "warningThresholds",
    "penaltyType",
    "penaltyTimeDeduction",
    "name",
    "mode",
    "listed",
    "bonusTime",
    *TIMEOUT_KEYS,
    "campaignPreset",
    *FORMAT_KEYS,
    *TIME_CONTROL_KEYS,
    "hostTimeout",
    *UNDO_SETTING_KEYS,
)
#: create settings only a HEAD client sends: a create carrying one gets HEAD's default bonus
#: and HEAD's timeout choice
HEAD_SETTING_KEYS = frozenset({"name", "mode", "listed", "bonusTime", *TIMEOUT_KEYS, "campaignPreset"})


def game_name(value: Any) -> str:
    """A lobby name: trimmed raw text (escaped by whoever displays it, C28), at most 50
    characters, no control character; missing or blank is HEAD's default "Game"."""
    if value is None:
        return DEFAULT_GAME_NAME
    if not isinstance(value, str):
        raise InvalidInput("Invalid game name")
    name = value.strip()
    if not name:
        return DEFAULT_GAME_NAME
    if len(name) > MAX_NAME or any(unicodedata.category(ch) in ("Cc", "Cs") for ch in name):
        raise InvalidInput("Invalid game name")
    return name


def game_mode(value: Any) -> str:
    if value is None:
        return GAME_MODES[0]
    if value in GAME_MODES:
        return str(value)
    shown = value if isinstance(value, str) else json.dumps(value)
    # HEAD's text; the echo is cut so a frame cannot make the reply as large as itself
    raise InvalidInput(f"Unknown game mode: {shown[:MAX_NAME]}")


def campaign_preset(value: Any) -> str:
    """A campaign preset's name; absent or null is HEAD's default. HEAD played an unknown
    name by standard's rules under the name it was given; ours is refused, naming the
    presets there are."""
    if value is None:
        return DEFAULT_PRESET
    if isinstance(value, str) and value in PRESETS:
        return value
    shown = value if isinstance(value, str) else json.dumps(value)
    raise InvalidInput(f"Unknown campaign preset: {shown[:MAX_NAME]} (one of {', '.join(PRESETS)})")


def listed_flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise InvalidInput("Invalid listed flag")
    return value


def create_settings(data: dict[str, Any]) -> GameSettings:
    raw = data.get("settings", {})
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise InvalidInput("Invalid settings")
    unknown = sorted(k for k in raw if k not in SETTING_KEYS and k != "audioEnabled")
    if unknown:
        raise InvalidInput(f"Invalid settings: unknown setting {unknown[0]!r}")
    d = GameSettings()
    count = integer(raw.get("playerCount", d.player_count), 2, 8)
    if count is None:
        raise InvalidInput("Invalid settings: playerCount must be an integer from 2 to 8")
    initial = integer(raw.get("initialTime", d.initial_time), 1, MAX_TIME)
    if initial is None:
        raise InvalidInput("Invalid settings: initialTime must be an integer from 1 to 86400000 (ms)")
    warn = thresholds(raw.get("warningThresholds", list(d.warning_thresholds)))
    if warn is None:
        raise InvalidInput("Invalid settings: warningThresholds must be 1 to 10 integers from 1 to 86400000 (ms)")
    ptype = raw.get("penaltyType", d.penalty_type)
    if ptype not in PENALTY_TYPES:
        raise InvalidInput("Invalid settings: penaltyType must be one of warning, time_deduction, game_loss")
    deduction = integer(raw.get("penaltyTimeDeduction", d.penalty_time_deduction), 0, MAX_TIME)
    if deduction is None:
        raise InvalidInput("Invalid settings: penaltyTimeDeduction must be an integer from 0 to 86400000 (ms)")
    mode = game_mode(raw.get("mode"))
    # checked whatever the mode, though only a campaign plays it (HEAD kept it in a casual
    # game's settings, where nothing read it)
    preset = campaign_preset(raw.get("campaignPreset"))
    name = game_name(raw.get("name"))
    listed = listed_flag(raw.get("listed", True))
    return GameSettings(
        count,
        initial,
        warn,
        str(ptype),
        deduction,
        name,
        mode,
        listed,
        create_bonus(raw),
        create_timeout(raw),
        preset if mode == "campaign" else None,
        create_format(raw, count, mode),
        time_control=create_time_control(raw),
        host_timeout=host_timeout(raw["hostTimeout"]) if "hostTimeout" in raw else None,
        undo_window=undo_window(raw),
    )


#: the bounds of settings.hostTimeout (ms), as lua/lib/host.lua checks them; its default
#: (absent) is 120000 there
HOST_TIMEOUT_BOUNDS = (10_000, 3_600_000)


def host_timeout(value: Any) -> int:
    v = integer(value, *HOST_TIMEOUT_BOUNDS)
    if v is None:
        raise InvalidInput("Invalid host timeout: an integer from 10000 to 3600000 (ms)")
    return v


def undo_window(raw: dict[str, Any]) -> int | None:
    """The undo setting a create or updateSettings names: undoWindow, the ms within which a
    player may undo their own last action (0: only the host undoes); None when not named."""
    if "undoWindow" not in raw:
        return None
    v = integer(raw["undoWindow"], 0, MAX_UNDO_WINDOW)
    if v is None:
        raise InvalidInput("Invalid undo window: an integer from 0 to 300000 (ms)")
    return v


def bonus_time(value: Any) -> int:
    v = integer(value, 0, MAX_BONUS_TIME)
    if v is None:
        raise InvalidInput("Invalid bonus time: an integer from 0 to 300000 (ms)")
    return v


def create_bonus(raw: dict[str, Any]) -> int | None:
    """The turn bonus of a new game: the one named, else HEAD's 30 s for a HEAD client's
    create (one naming a HEAD-only setting: HEAD clients always send `name`), else none: a
    v1 client's game keeps v1's clock, which never gave time on a turn pass."""
    if "bonusTime" in raw:
        return bonus_time(raw["bonusTime"])
    if HEAD_SETTING_KEYS & raw.keys():
        return DEFAULT_BONUS_TIME
    return None


def timeout_setting(attr: str, value: Any) -> int:
    """A value of the TimeoutRules field `attr`, within its bounds."""
    _, lo, hi, refusal = TIMEOUT_SETTINGS[attr]
    v = integer(value, lo, hi)
    if v is None:
        raise InvalidInput(refusal)
    return v


def create_timeout(raw: dict[str, Any]) -> TimeoutRules | None:
    """The timeout choice of a new game: HEAD's for a HEAD client's create (the same rule as
    the bonus: one naming a HEAD-only setting), with the values it names and HEAD's defaults
    for the others; none for a v1 create, whose clock times out as v1's did."""
    if not HEAD_SETTING_KEYS & raw.keys():
        return None
    named = {attr: timeout_setting(attr, raw[key]) for attr, (key, *_) in TIMEOUT_SETTINGS.items() if key in raw}
    return TimeoutRules(**named)


def time_control_fields(raw: dict[str, Any]) -> dict[str, Any]:
    """The time control fields `raw` names, each within its bounds (create and updateSettings).
    Naming timeControl names the whole control: its amount (none for sudden death, required
    for the others), and for the cap the warning lead (DEFAULT_CAP_WARNING, or half the cap
    when that is not shorter, if not named). Amounts alone change the game's own control,
    which the script checks against them (INVALID_TIME_CONTROL)."""
    out: dict[str, Any] = {}
    lo, hi = CONTROL_MS
    if "timeControlMs" in raw:
        amount = integer(raw["timeControlMs"], lo, hi)
        if amount is None:
            raise InvalidInput(
                "Invalid time control amount: timeControlMs must be an integer from 1000 to 3600000 (ms)"
            )
        out["timeControlMs"] = amount
    if "turnCapWarningMs" in raw:
        lead = integer(raw["turnCapWarningMs"], 0, hi - 1)
        if lead is None:
            raise InvalidInput("Invalid turn cap warning: turnCapWarningMs must be an integer from 0 to 3599999 (ms)")
        out["turnCapWarningMs"] = lead
    if "timeControl" not in raw:
        return out
    kind = raw["timeControl"]
    if not isinstance(kind, str) or kind not in TIME_CONTROLS:
        raise InvalidInput("Invalid time control: timeControl must be one of suddenDeath, fischer, bronstein, turnCap")
    out["timeControl"] = kind
    if kind == "suddenDeath" and len(out) > 1:
        raise InvalidInput("Invalid time control: suddenDeath takes no timeControlMs or turnCapWarningMs")
    if kind != "suddenDeath" and "timeControlMs" not in out:
        raise InvalidInput("Invalid time control: fischer, bronstein and turnCap need timeControlMs")
    if kind != "turnCap" and "turnCapWarningMs" in out:
        raise InvalidInput("Invalid time control: turnCapWarningMs is for turnCap only")
    if kind == "turnCap":
        cap = out["timeControlMs"]
        out.setdefault("turnCapWarningMs", min(DEFAULT_CAP_WARNING, cap // 2))
        if out["turnCapWarningMs"] >= cap:
            raise InvalidInput("Invalid turn cap warning: turnCapWarningMs must be shorter than the cap")
    return out


def create_time_control(raw: dict[str, Any]) -> TimeControl | None:
    """The time control of a new game; None when the create names none (sudden death)."""
    fields = time_control_fields(raw)
    if not fields:
        return None
    if "timeControl" not in fields:
        raise InvalidInput("Invalid time control: timeControlMs and turnCapWarningMs need a timeControl")
    return TimeControl(fields["timeControl"], fields.get("timeControlMs"), fields.get("turnCapWarningMs"))


TIMEOUT_CHOICES = ("loseLives", "gainDrunk", "die")


def timeout_choice(data: dict[str, Any]) -> tuple[str]:
    """The `choice` of a timeoutChoice message (HEAD's first check)."""
    choice = data.get("choice")
    if not isinstance(choice, str) or choice not in TIMEOUT_CHOICES:
        raise malformed("INVALID_TIMEOUT_CHOICE")
    return (choice,)


def rename(data: dict[str, Any]) -> tuple[str]:
    return (game_name(data.get("name")),)


def set_listed(data: dict[str, Any]) -> tuple[bool]:
    return (listed_flag(data.get("listed")),)


def player_name(value: Any) -> str:
    if not isinstance(value, str):
        raise InvalidInput("Invalid player name")
    name = value.strip()
    # control characters and lone surrogates (not encodable as UTF-8) are never a name
    if not 1 <= len(name) <= MAX_NAME or any(unicodedata.category(ch) in ("Cc", "Cs") for ch in name):
        raise InvalidInput("Invalid player name")
    return name


def player_updates(data: dict[str, Any]) -> dict[str, Any]:
    """The fields of an updatePlayer message, each validated; at least one must be present."""
    out: dict[str, Any] = {}
    if "name" in data:
        out["name"] = player_name(data["name"])
    ranges = {
        "time": (0, MAX_TIME, "Invalid time"),
        "life": (-999, 9999, "Invalid life"),
        "drunkCounter": (0, 999, "Invalid counter"),
        "genericCounter": (0, 999, "Invalid counter"),
        "poison": (0, 99, "Invalid poison: an integer from 0 to 99"),
        "energy": (0, 999, "Invalid energy: an integer from 0 to 999"),
        "experience": (0, 999, "Invalid experience: an integer from 0 to 999"),
    }
    for field, (lo, hi, message) in ranges.items():
        if field in data:
            v = integer(data[field], lo, hi)
            if v is None:
                raise InvalidInput(message)
            out[field] = v
    if "color" in data:
        out["color"] = color(data["color"])
    if not out:
        raise InvalidInput("Nothing to update")
    return out


def color(value: Any) -> str | None:
    """A palette id, or None (null) to clear the player's colour."""
    if value is None or (isinstance(value, str) and value in COLORS):
        return value
    raise malformed("INVALID_COLOR")


def settings_updates(data: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "warningThresholds" in data:
        warn = thresholds(data["warningThresholds"])
        if warn is None:
            raise InvalidInput("Invalid warning thresholds")
        out["warningThresholds"] = list(warn)
    if "penaltyType" in data:
        if data["penaltyType"] not in PENALTY_TYPES:
            raise InvalidInput("Invalid penalty type")
        out["penaltyType"] = data["penaltyType"]
    if "penaltyTimeDeduction" in data:
        v = integer(data["penaltyTimeDeduction"], 0, MAX_TIME)
        if v is None:
            raise InvalidInput("Invalid penalty time deduction")
        out["penaltyTimeDeduction"] = v
    if "bonusTime" in data:
        out["bonusTime"] = bonus_time(data["bonusTime"])
    for attr, (key, *_) in TIMEOUT_SETTINGS.items():
        if key in data:
            out[key] = timeout_setting(attr, data[key])
    out.update(format_updates(data))
    out.update(time_control_fields(data))
    if "hostTimeout" in data:
        out["hostTimeout"] = host_timeout(data["hostTimeout"])
    if (window := undo_window(data)) is not None:
        out["undoWindow"] = window
    if not out:
        raise InvalidInput("Nothing to update")
    return out


@dataclass(frozen=True)
class CommanderDamage:
    player_id: int
    source_id: int
    partner: bool
    amount: int


def commander_damage(data: dict[str, Any]) -> CommanderDamage:
    """A commanderDamage message: the damaged player, the source (another player), whether
    the source's partner commander dealt it (default false), and the amount (a non-zero
    integer -99..99, added to the matrix cell and taken from life)."""
    pid = player_id(data)
    source = integer(data.get("sourceId"), 1, 8)
    if source is None or source == pid:
        raise malformed("INVALID_COMMANDER_SOURCE")
    partner = data.get("partner", False)
    if not isinstance(partner, bool):
        raise InvalidInput("Invalid partner flag")
    amount = integer(data.get("amount"), -99, 99)
    if amount is None or amount == 0:
        raise InvalidInput("Invalid amount: a non-zero integer from -99 to 99")
    return CommanderDamage(pid, source, partner, amount)


MAX_UNDO = 16
HISTORY_PAGE = (1, 50)
DEFAULT_HISTORY_PAGE = 20


def undo_count(data: dict[str, Any]) -> tuple[int]:
    """undo's `count`: how many of the last undoable actions to revert, 1 (the default) to 16."""
    value = data.get("count", 1)
    count = integer(value, 1, MAX_UNDO)
    if count is None:
        raise InvalidInput("Invalid undo count: an integer from 1 to 16")
    return (count,)


def history_page(data: dict[str, Any]) -> tuple[int, int | None]:
    """history's `limit` (1..50, default 20) and `before` (a version: only older entries;
    absent or null for the newest)."""
    limit = integer(data.get("limit", DEFAULT_HISTORY_PAGE), *HISTORY_PAGE)
    if limit is None:
        raise InvalidInput("Invalid history limit: an integer from 1 to 50")
    raw = data.get("before")
    before = None if raw is None else integer(raw, 1, 2**53)
    if raw is not None and before is None:
        raise InvalidInput("Invalid history position: before must be a version (a positive integer)")
    return limit, before


def dice_sides(data: dict[str, Any]) -> int:
    """The `sides` of a rollDice message: an integral number (HEAD's first check), then 2..999."""
    value = data.get("sides")
    integral = isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    if isinstance(value, bool) or not integral:
        raise malformed("INVALID_DICE_SIDES")
    sides = integer(value, *DICE_SIDES)
    if sides is None:
        raise malformed("INVALID_DICE_RANGE")
    return sides


def admin_add_time(data: dict[str, Any]) -> tuple[int, int]:
    """adminAddTime's player and its `minutes` (1 to 60, fractions allowed, HEAD's rule) as
    whole milliseconds to add."""
    pid = player_id(data)
    minutes = data.get("minutes")
    if (
        isinstance(minutes, bool)
        or not isinstance(minutes, int | float)
        or not math.isfinite(minutes)
        or not 1 <= minutes <= 60
    ):
        raise InvalidInput("Minutes must be between 1 and 60")
    return pid, round(minutes * 60_000)


def client_time(data: dict[str, Any]) -> float | None:
    """The `time` request's clientTime, echoed back as sent: a number, or absent."""
    value = data.get("clientTime")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInput("Invalid clientTime")
    return value


def token(value: Any, code: str) -> str:
    """A token that can be one (the script checks whether it is right); else `code`, as the
    script would answer for a wrong one."""
    if not isinstance(value, str) or not 0 < len(value) <= MAX_TOKEN:
        raise malformed(code)
    return value


@dataclass(frozen=True)
class Reconnect:
    game_id: str
    player_id: int | None
    token: str | None
    host_token: str | None


def reconnect(data: dict[str, Any]) -> Reconnect:
    gid = game_id(data)
    host = token(data["hostToken"], "INVALID_HOST_TOKEN") if data.get("hostToken") is not None else None
    if host is not None and data.get("playerId") is None:
        return Reconnect(gid, None, None, host)
    pid = player_id(data)
    return Reconnect(gid, pid, token(data.get("token"), "INVALID_TOKEN"), host)


# -- feedback ------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewFeedback:
    text: str
    author_token: str | None


@dataclass(frozen=True)
class FeedbackEdit:
    feedback_id: str
    text: str
    author_token: str | None


@dataclass(frozen=True)
class FeedbackRef:
    feedback_id: str
    author_token: str | None


def _js_falsy(value: Any) -> bool:
    """What the original's `!value` refused: absent, null, false, "", 0 and NaN."""
    if value is None or value is False or value == "":
        return True
    return isinstance(value, int | float) and not isinstance(value, bool) and (value == 0 or value != value)


def feedback_text(value: str) -> str:
    """The text as stored: trimmed, raw (never HTML-encoded: whoever shows it escapes it)."""
    text = value.strip()
    if not text:
        raise error_for("FEEDBACK_EMPTY")
    if len(text) > MAX_FEEDBACK:
        raise error_for("FEEDBACK_TOO_LONG")
    # lone surrogates cannot be stored as UTF-8; other control characters are never text
    if any(unicodedata.category(ch) in ("Cc", "Cs") and ch not in FEEDBACK_CONTROLS_ALLOWED for ch in text):
        raise error_for("INVALID_FEEDBACK_TEXT")
    return text


def author_token(data: dict[str, Any]) -> str | None:
    """The optional `authorToken` (our addition) naming the author across connections."""
    value = data.get("authorToken")
    if value is None:
        return None
    if not isinstance(value, str) or not FEEDBACK_TOKEN.fullmatch(value):
        raise InvalidInput("Invalid feedback token")
    return value


def _feedback_id(value: Any) -> str:
    # an id this service never issues is not found, as the original answered for any unknown id
    if not isinstance(value, str) or not 0 < len(value) <= MAX_FEEDBACK_ID:
        raise error_for("FEEDBACK_NOT_FOUND")
    return value


def new_feedback(data: dict[str, Any]) -> NewFeedback:
    value = data.get("text")
    if not isinstance(value, str) or not value:
        raise error_for("INVALID_FEEDBACK_TEXT")
    return NewFeedback(feedback_text(value), author_token(data))


def feedback_edit(data: dict[str, Any]) -> FeedbackEdit:
    fid, value = data.get("id"), data.get("text")
    if _js_falsy(fid) or _js_falsy(value):
        raise error_for("INVALID_UPDATE_REQUEST")
    if not isinstance(value, str):
        raise error_for("FEEDBACK_EMPTY")
    text = feedback_text(value)
    return FeedbackEdit(_feedback_id(fid), text, author_token(data))


def feedback_ref(data: dict[str, Any]) -> FeedbackRef:
    fid = data.get("id")
    if _js_falsy(fid):
        raise error_for("INVALID_DELETE_REQUEST")
    return FeedbackRef(_feedback_id(fid), author_token(data))


def feedback_author(data: dict[str, Any]) -> str | None:
    """loadFeedbacks: only the optional authorToken."""
    return author_token(data)
