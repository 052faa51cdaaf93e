"""Model-based test of the game rules: a small pure-Python model of the documented rules
(docs/protocol.md, lua/README.md "Time and the clock", the script headers) driven with random
sequences of actions, clock steps and pauses against the Lua scripts on a real redis-server.

The rules modelled: v1's clock (start, pause, switch, pass, timeouts, warnings, penalties,
eliminations, claims) and HEAD's systems built so far: the interrupt stack (the last
interrupter's clock runs; the turn cannot pass while it holds anyone), the host's admin
actions (add time, kick, revive), targeting (pick, confirm, respond, cancel; every awaiting
target's clock runs at once; eliminations drop targets, complete or hand the turn on; the
active player's switch waits for responding targets, a turn pass ends a selection, the
host's switch ends either) and, in a game created with HEAD's timeout settings, the timeout
choice (a penalty and a grace that runs only while the game runs, announced again on resume,
"die" when it runs out, the three answers), the table rules: formats (starting life,
two-headed giant's teams sharing life and poison and losing together), the counters (poison,
energy, experience, commander damage), the loss rules with each elimination's reason, concede
and revive's counters; the time controls (a Fischer increment to the passer, a Bronstein
delay at each turn's start, a turn cap that warns and passes the turn by itself, never while
someone else holds priority) with the turn and round counters, each player's time used and
turns and gameComplete's summary; and undo (the host's last N, a player's own last action
within the window; barriers clear the stack; the restored game keeps the seats' holders and
its running or paused status, and its clocks are charged the game's running time since the
snapshot: the model keeps deep copies of itself as the snapshots). HEAD's turn bonus is left
out on purpose: a bonus added to a clock at zero puts its next boundary on the time grid
below, where the real drift would decide what fires; tests/lua/test_bonus_time.py covers it.

After every step the stored game must equal the model's (status, active player, winner,
serverTime, version, every player's clock, penalties, elimination, life, counters, holder,
pending choice, grace left and its deadline, the interrupt stack, the targeting fields and
the deadline index), the published events must be exactly the model's, and a refused
action must carry the model's code and leave every key of the game unchanged.

Only the real redis-server engine: the point is to check the scripts as production runs
them, and each step makes several round trips, so a second engine would double the run time
without testing anything the per-script suites (which do run on fakeredis) do not.

Time. Game time is Redis TIME plus the test clock offset, so it moves a little between two
calls however the offset is set. The machine keeps a grid time `t` (multiples of U) and pins
the offset to it at every clock step; a script then sees `t + d` with d far below U/2 (an
action finding d past MAX_DRIFT_MS makes time pass by a unit first, see bound_drift). Every
duration the machine chooses keeps the clock's boundaries off the grid: initial times and
set times are odd multiples of U/2 (so is timeoutBonusTime, which a clock restarts from on the
grid), thresholds, steps, deductions, the grace (counted from a clock's zero), the Fischer
increment and the Bronstein delay multiples of U, a turn cap an odd multiple of U/2. A chain
of caps counts from each cap's exact time and can come back to the grid: step() then moves
the time on by U/4 until nothing falls due in the drift (clear_of_boundaries). So the
real drift can never change what fires, and the model decides with the grid time; when the
script committed, the model is replayed with the time the script used (its `lastActivity`),
so the clocks compare to the millisecond.
"""

from __future__ import annotations

import asyncio
import copy
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as hs
from hypothesis.stateful import RuleBasedStateMachine, initialize, rule, run_state_machine_as_test
from redis.asyncio import Redis

from service import keys
from service.clock import GameClock
from service.errors import GameError
from service.formats import FORMATS, FormatSettings, LossRules, format_updates, with_overrides
from service.game import GameStore, Outcome
from service.protocol import GameSettings, TimeControl, TimeoutRules
from service.scripts import Scripts
from stack.redis_server import RedisProcess
from tests.support.lua_harness import Harness, Published, new_aid

T = TypeVar("T")

U = 10_000
#: the real time a script's clock may run ahead of the grid time: far below the U/4 that
#: clear_of_boundaries keeps clear. Between two steps a sequence can make a hundred round
#: trips, and on a loaded machine (a fresh-clone CI run) they once added up to more than U/4,
#: where a target's clock ran out in Redis and not in the model
MAX_DRIFT_MS = U // 8
#: lua/interrupt.lua's cap on the stack, lua/lib/targeting.lua's on the targets, lua/lib/checks.lua's
#: on a clock and lua/timeout_choice.lua's bounds on life and the drunk counter
MAX_INTERRUPTS = 16
MAX_TARGETS = 7
MAX_TIME = 86_400_000
MIN_LIFE, MAX_COUNTER = -999, 999
#: lua/lib/rules.lua's bound on the turns the cap passes in one stretch
MAX_CAPPED = 16
#: the undo window of the model's games, off the time grid (an action's age is a multiple of U)
UNDO_WINDOW = 5 * U // 2
#: lib/commit.lua's undo stack: its cap, the kinds it keeps, and those that leave it as it is
#: (any other kind clears it)
UNDO_CAP = 16
UNDOABLE = frozenset(
    {"switch", "updatePlayer", "commanderDamage", "addPenalty", "eliminate", "concede", "adminAddTime"}
    | {"adminRevive", "adminKick"}
)
UNDO_NEUTRAL = frozenset(
    {"claim", "unclaim", "leave", "disconnect", "reconnect", "release", "pause", "resume", "timeout", "deadline"}
    | {"renameGame", "setListed", "updateSettings", "rollDice", "undo", "moveSeat", "freeSeat", "transferHost"}
    | {"claimHost"}
)
HOST = "host"
#: the time controls a game is created with, mostly sudden death. The increment and the delay
#: are multiples of U, so a clock's boundaries stay off the grid; a cap (odd multiples of
#: U/2, its lead a multiple of U) puts its first points off it too (step() keeps the later ones off)
CONTROLS = [
    None,
    None,
    None,
    TimeControl("fischer", U),
    TimeControl("fischer", 2 * U),
    TimeControl("bronstein", U),
    TimeControl("bronstein", 2 * U),
    TimeControl("turnCap", 3 * U // 2, 0),
    TimeControl("turnCap", 5 * U // 2, U),
    TimeControl("turnCap", 7 * U // 2, U),
]
SEATED = ("c1", "c2", "c3")
SPECTATOR = "spec"


class Refused(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass
class Seat:
    id: int
    time: int
    penalties: int = 0
    out: bool = False
    holder: str | None = None
    life: int = 20
    drunk: int = 0
    generic: int = 0
    #: a pending timeout choice and the grace it has left at serverTime; both None in a v1
    #: game, whose players carry no such fields
    pending: bool | None = None
    grace: int | None = None
    poison: int = 0
    energy: int = 0
    experience: int = 0
    #: commander damage taken, [commander, partner] per source seat (index = source id - 1)
    cmd: list[list[int]] = field(default_factory=list)
    reason: str | None = None
    #: ms taken off the clock by the running clock, and turns begun (lib/clocks.lua)
    used: int = 0
    turns: int = 0

    @property
    def name(self) -> str:
        return f"Player {self.id}"


@dataclass
class Model:
    """The game as the docs describe it. Each action method either raises Refused, returns
    False for "nothing to change", or changes the model and returns True (a commit)."""

    seats: list[Seat]
    initial: int
    thresholds: tuple[int, ...]
    penalty: str
    deduction: int
    now: int
    server_time: int
    status: str = "waiting"
    active: int | None = None
    winner: int | None = None
    version: int = 1
    #: the interrupt stack: player ids, the last one holding priority
    stack: list[int] = field(default_factory=list)
    #: HEAD's timeout choice; None: a v1 game, which pauses on a timeout
    choice: TimeoutRules | None = None
    #: targeting: "none" | "selecting" | "resolving", the picks, those still to respond and
    #: whose turn it is while they do
    targeting: str = "none"
    targeted: list[int] = field(default_factory=list)
    awaiting: list[int] = field(default_factory=list)
    original: int | None = None
    events: list[dict[str, Any]] = field(default_factory=list)
    #: the format (lua/lib/formats.lua): starting life, loss rules, teams of two
    fmt: FormatSettings = FormatSettings()
    #: the time control (lib/clocks.lua): its kind, amount and the turn cap's warning lead;
    #: the turn and round counters, the turn's own time and whose turn 1 was
    control: str = "suddenDeath"
    control_ms: int = 0
    lead: int = 0
    turn: int = 0
    round: int = 0
    turn_time: int = 0
    first: int | None = None
    #: the game's running time (runTime), and the undo stack, newest first: (version, the
    #: actor's seat, when, the model just before the action, its own stack left out)
    run_time: int = 0
    undos: list[tuple[int, int | None, int, Kept]] = field(default_factory=list)

    # -- questions ----------------------------------------------------------------------

    def seat(self, pid: int) -> Seat | None:
        return next((s for s in self.seats if s.id == pid), None)

    def alive(self) -> list[Seat]:
        return [s for s in self.seats if not s.out]

    @property
    def teams(self) -> bool:
        return FORMATS[self.fmt.format].teams

    def mate(self, s: Seat) -> Seat | None:
        """Two-headed giant's teammate: seats 1+2, 3+4, ..."""
        return self.seat(s.id + 1 if s.id % 2 else s.id - 1) if self.teams else None

    def sides(self) -> int:
        """Players (or teams) still in."""
        return len({(s.id + 1) // 2 if self.teams else s.id for s in self.alive()})

    def set_life(self, s: Seat, life: int) -> None:
        for q in (s, self.mate(s)):
            if q is not None:
                q.life = life

    def set_poison(self, s: Seat, poison: int) -> None:
        for q in (s, self.mate(s)):
            if q is not None:
                q.poison = poison

    def loss(self, s: Seat) -> str | None:
        rules = self.fmt.loss_rules
        if rules.commander_damage and any(v >= 21 for pair in s.cmd for v in pair):
            return "commanderDamage"
        if rules.poison and s.poison >= (15 if self.teams else 10):
            return "poison"
        if rules.life and s.life <= 0:
            return "life"
        return None

    def check_loss(self, s: Seat) -> None:
        reason = self.loss(s)
        if reason is not None and not s.out and self.status != "finished":
            self.knock_out(s, reason)

    def seated(self, client: str) -> bool:
        return any(s.holder == client for s in self.seats)

    def after(self, pid: int | None) -> int | None:
        """The next player still in after `pid` in turn order, wrapping; `pid` itself only
        when nobody else is; from the first seat when `pid` is no player."""
        ids = [s.id for s in self.seats]
        start = ids.index(pid) + 1 if pid in ids else 0
        ring = self.seats[start:] + self.seats[:start]
        return next((s.id for s in ring if not s.out), None)

    def holder_seat(self, client: str) -> Seat | None:
        return next((s for s in self.seats if s.holder == client), None)

    def running(self) -> list[Seat]:
        """Whose clocks run: the interrupter holding priority, else every target still to
        respond (all at once), else the active player; never an eliminated player's."""
        if self.stack:
            ids = [self.stack[-1]]
        elif self.targeting == "resolving" and self.awaiting:
            ids = list(self.awaiting)
        else:
            ids = [] if self.active is None else [self.active]
        return [s for pid in ids if (s := self.seat(pid)) is not None and not s.out]

    def deadline(self, s: Seat) -> int | None:
        """When a pending choice resolves as "die": its grace runs only while the game runs."""
        if self.status == "running" and s.pending and not s.out and s.grace is not None:
            return self.server_time + s.grace
        return None

    def due(self) -> int | None:
        """The deadline index: the earliest next warning or timeout of a running clock, or
        the end of a pending choice's grace."""
        if self.status != "running":
            return None
        own = self.own_turn()
        delay = max(0, self.control_ms - self.turn_time) if own and self.control == "bronstein" else 0
        ats = [
            self.server_time + delay + s.time - max((t for t in self.thresholds if t < s.time), default=0)
            for s in self.running()
            if s.time > 0
        ]
        if own and self.control == "turnCap":
            ms, lead, tt = self.control_ms, self.lead, self.turn_time
            ats.append(self.server_time + max(0, (ms - lead if lead > 0 and tt < ms - lead else ms) - tt))
        ats += [at for s in self.seats if (at := self.deadline(s)) is not None]
        return min(ats, default=None)

    def own_turn(self) -> bool:
        """The running clock is the active player's own: nobody interrupted, no targets respond."""
        run = self.running()
        responding = self.targeting == "resolving" and bool(self.awaiting)
        return len(run) == 1 and run[0].id == self.active and not self.stack and not responding

    # -- the rules shared by actions ----------------------------------------------------

    def settle(self) -> bool:
        """Charge every running clock up to now (the set taken before any charge), and run
        the pending choices' grace for the same stretch; each choice whose grace ran out
        resolves as "die". True when one did (a change that may publish nothing)."""
        elapsed = self.now - self.server_time
        if elapsed <= 0:
            return False
        self.server_time = self.now
        if self.status != "running":
            return False
        self.run_time += elapsed
        for s in self.seats:
            if s.pending and not s.out and s.grace is not None:
                s.grace -= elapsed
        if self.own_turn():
            self.run_turn(elapsed)
        else:
            for s in self.running():
                self.charge(s, elapsed)
        return self.expire()

    def charge(self, s: Seat, elapsed: int, after: int = 0) -> None:
        """Warnings for every threshold crossed (highest first), the timeout when the clock
        reaches zero from above, `elapsed - before + after` ms ago; what it takes counts as used."""
        before, s.time = s.time, max(0, s.time - elapsed)
        s.used += before - s.time
        for t in sorted(self.thresholds, reverse=True):
            if s.time <= t < before:
                self.events.append({"type": "warning", "data": {"playerId": s.id, "threshold": t}})
        if before > 0 and s.time == 0:
            self.time_out(s, elapsed - before + after)

    def run_turn(self, elapsed: int) -> None:
        """The active player's own clock runs: a Bronstein delay first costs nothing; the turn
        cap warns at its lead and passes the turn when the turn's time reaches it, the rest of
        the stretch running on (at most MAX_CAPPED passes, the rest uncharged)."""
        ms, lead = self.control_ms, self.lead
        for _ in range(MAX_CAPPED):
            s = self.seat(self.active) if self.active is not None else None
            assert s is not None
            t0 = self.turn_time
            step = min(elapsed, max(0, ms - t0)) if self.control == "turnCap" else elapsed
            elapsed -= step
            self.turn_time = t0 + step
            free = min(step, max(0, ms - t0)) if self.control == "bronstein" else 0
            self.charge(s, step - free, elapsed)
            if self.control != "turnCap" or self.status != "running":
                return
            if lead > 0 and t0 < ms - lead <= self.turn_time:
                data = {"playerId": s.id, "remaining": ms - self.turn_time}
                self.events.append({"type": "turnCapWarning", "data": data})
            if self.turn_time < ms:
                return
            to = self.after(s.id)
            assert to is not None
            self.events.append({"type": "turnCapped", "data": {"playerId": s.id, "nextPlayerId": to}})
            self.hand_turn(to)

    def begin_turn(self, to: int, frm: int | None, first: bool = False) -> None:
        """`to` begins a turn after `frm`'s; a new round when the order wrapped, counting
        seats from whoever had turn 1."""
        s = self.seat(to)
        assert s is not None
        self.active, self.turn_time = to, 0
        s.turns += 1
        if first or self.turn == 0:
            self.turn, self.round, self.first = 1, 1, to
            return
        self.turn += 1
        ids = [x.id for x in self.seats]
        f = ids.index(self.first) if self.first in ids else 0
        if frm in ids and (ids.index(to) - f) % len(ids) <= (ids.index(frm) - f) % len(ids):
            self.round += 1

    def hand_turn(self, to: int) -> int:
        """The turn goes to another player: a real pass while running (the Fischer increment
        to the passer), a selection ends, a new turn once begun. Returns the increment."""
        frm = self.seat(self.active) if self.active is not None else None
        increment = 0
        if self.status == "running" and self.control == "fischer" and frm is not None and not frm.out:
            before, frm.time = frm.time, min(MAX_TIME, frm.time + self.control_ms)
            increment = frm.time - before
        was = self.active
        if self.targeting != "none":
            self.cancel_targeting(to)
        if self.status == "waiting":
            self.active = to
        else:
            self.begin_turn(to, was)
        return increment

    def time_out(self, s: Seat, late: int) -> None:
        """v1's timeout pauses the game and counts a penalty of the penalty type; HEAD's
        offers the choice instead (one penalty, the grace counted from the clock's zero, the
        game running on), unless one is already pending."""
        if self.choice is None:
            self.status = "paused"
            self.events.append({"type": "timeout", "data": {"playerId": s.id}})
            self.penalise(s)
        elif not s.pending:
            s.penalties += 1
            s.pending, s.grace = True, self.choice.grace_period - late
            self.events.append(self.choice_event(s))

    def choice_event(self, s: Seat) -> dict[str, Any]:
        assert self.choice is not None
        options = {"livesLoss": self.choice.penalty_lives, "drunkGain": self.choice.penalty_drunk}
        return {"type": "timeoutChoice", "data": {"playerId": s.id, "options": options, "deadline": self.deadline(s)}}

    def expire(self) -> bool:
        """Each pending choice whose grace ran out is "die", the earliest first, until the
        game is decided."""
        gone = sorted(
            (s for s in self.seats if s.pending and not s.out and s.grace is not None and s.grace <= 0),
            key=lambda s: (s.grace, self.seats.index(s)),
        )
        for s in gone:
            if self.status != "running":
                break
            # a two-headed giant teammate may have gone out with the one before
            if not s.out:
                self.knock_out(s, "timeout")
        return bool(gone)

    def clear_choice(self, s: Seat) -> None:
        if s.pending is not None:
            s.pending, s.grace = False, None

    def clear_targeting(self) -> None:
        self.targeting, self.targeted, self.awaiting, self.original = "none", [], [], None

    def complete_targeting(self) -> None:
        """The last target responded: the turn is the original player's again."""
        self.active = self.original if self.original is not None else self.active
        self.clear_targeting()
        self.events.append({"type": "targetingComplete", "data": {"activePlayer": self.active}})

    def cancel_targeting(self, active: int | None) -> None:
        self.active = active
        self.clear_targeting()
        self.events.append({"type": "targetingCanceled", "data": {"activePlayer": active}})

    def drop_target(self, s: Seat) -> None:
        """An eliminated player leaves targeting. The active player out while picking ends
        the selection (the turn going on); the original player out while targets respond
        hands the turn on, which is where completion returns it; nobody left to respond
        completes. A game the elimination decides only drops the ids (knock_out clears)."""
        if self.targeting == "none":
            return
        self.targeted = [pid for pid in self.targeted if pid != s.id]
        self.awaiting = [pid for pid in self.awaiting if pid != s.id]
        if self.sides() <= 1:
            return
        if self.targeting == "selecting":
            if self.active == s.id:
                self.cancel_targeting(self.after(s.id))
            return
        if self.original == s.id:
            self.active = self.original = self.after(s.id)
        if not self.awaiting:
            self.complete_targeting()

    def penalise(self, s: Seat) -> None:
        s.penalties += 1
        if self.penalty == "time_deduction":
            s.time = max(0, s.time - self.deduction)
        elif self.penalty == "game_loss" and not s.out:
            self.knock_out(s, "penalty")

    def knock_out(self, s: Seat, reason: str) -> None:
        """Out with the reason; in two-headed giant the teammate too (a team loses together)."""
        mate = self.mate(s)
        out = [s] + ([mate] if mate is not None and not mate.out else [])
        was_active = next((q.id for q in out if self.active == q.id), None)
        for q in out:
            q.out, q.reason = True, reason
            self.clear_choice(q)
            # an eliminated player never holds priority, or nobody's clock would run (C16)
            self.stack = [pid for pid in self.stack if pid != q.id]
        for q in out:
            self.drop_target(q)
        left = sorted(self.alive(), key=lambda q: q.id)
        if self.sides() <= 1 and self.status != "finished":
            self.status, self.active, self.stack = "finished", None, []
            self.clear_targeting()
            self.winner = left[0].id if left else None
            name = left[0].name if left else None
            summary = [{"playerId": x.id, "timeUsed": x.used, "turns": x.turns} for x in self.seats]
            data: dict[str, Any] = {"winnerId": self.winner, "winnerName": name, "summary": summary}
            if self.teams and left:
                data["winnerTeam"] = [q.id for q in left]
            self.events.append({"type": "gameComplete", "data": data})
        elif was_active is not None:
            # targeting may have handed the turn on already (drop_target)
            held = self.seat(self.active) if self.active is not None else None
            to = self.active if held is not None and not held.out else self.after(was_active)
            if self.status == "waiting" or to is None:
                self.active = to
            else:
                self.begin_turn(to, was_active)

    def run_clock(self) -> None:
        """start and resume: the active player (or the next one still in) runs, and each
        pending choice is announced again with its new deadline."""
        first = self.status == "waiting"
        self.status = "running"
        current = self.seat(self.active) if self.active is not None else None
        if current is None or current.out:
            to = self.after(self.active)
            if to is not None and to != self.active and self.turn > 0:
                self.begin_turn(to, self.active)
            else:
                self.active = to
        if first and self.active is not None:
            self.begin_turn(self.active, None, first=True)
        # a turn whose cap was reached as the game paused passes at once (lib/rules.lua pass_capped)
        if self.control == "turnCap" and self.own_turn() and self.turn_time >= self.control_ms:
            self.run_turn(0)
        self.events += [self.choice_event(s) for s in self.seats if self.deadline(s) is not None]

    # -- actions --------------------------------------------------------------------------

    def claim(self, client: str, pid: int) -> bool:
        self.settle()
        s = self.seat(pid)
        if s is None:
            raise Refused("PLAYER_NOT_FOUND")
        if self.status != "waiting" and s.holder == client:
            raise Refused("ALREADY_YOUR_PLAYER")
        if self.status != "waiting" and s.out:
            raise Refused("PLAYER_ELIMINATED")
        if s.holder not in (None, client):
            raise Refused("PLAYER_CLAIMED")
        self.release(client)
        s.holder = client
        return True

    def release(self, client: str) -> bool:
        """unclaim and leave: the client's seats become free (tokens are not modelled)."""
        if not self.seated(client):
            return False
        self.settle()
        for s in self.seats:
            if s.holder == client:
                s.holder = None
        return True

    def start(self, client: str) -> bool:
        if client != HOST and not self.seated(client):
            raise Refused("NOT_AUTHORIZED_START")
        self.settle()
        if self.status == "finished":
            raise Refused("GAME_FINISHED")
        if self.status == "running":
            return False
        self.run_clock()
        return True

    def pause(self, client: str) -> bool:
        if client != HOST and not self.seated(client):
            raise Refused("NOT_AUTHORIZED_PAUSE")
        # a toggle of what the caller saw: pausing a clock that ran out meanwhile commits
        # the timeout and leaves the game paused (resolved from lua/pause.lua)
        was = self.status
        self.settle()
        if was == "running":
            self.status = "paused" if self.status == "running" else self.status
            return True
        if self.status == "paused":
            self.run_clock()
            return True
        return False

    def reset(self, client: str) -> bool:
        if client != HOST:
            raise Refused("NOT_OWNER_RESET")
        self.settle()
        self.server_time = max(self.server_time, self.now)
        self.status, self.active, self.winner, self.stack = "waiting", None, None, []
        self.clear_targeting()
        for s in self.seats:
            s.time, s.penalties, s.out, s.life = self.initial, 0, False, self.fmt.starting_life
            s.drunk, s.generic = 0, 0
            s.poison, s.energy, s.experience, s.reason = 0, 0, 0, None
            s.cmd = [[0, 0] for _ in self.seats]
            s.used, s.turns = 0, 0
            self.clear_choice(s)
        self.turn, self.round, self.turn_time, self.first = 0, 0, 0, None
        return True

    def switch(self, client: str, target: int | None) -> bool:
        """`target` None is passTurn: the next player still in after the active one, only
        while the game runs (or is already finished, which the next check refuses)."""
        if target is None and self.status in ("waiting", "paused"):
            raise Refused("GAME_NOT_RUNNING")
        if self.status != "waiting" and client != HOST:
            current = self.seat(self.active) if self.active is not None else None
            if current is None or current.holder != client:
                raise Refused("NOT_AUTHORIZED_SWITCH" if target is not None else "NOT_AUTHORIZED_PASS")
        was = self.active
        self.settle()
        if self.status == "finished":
            raise Refused("GAME_FINISHED")
        # the turn cap passed it, or the active player's choice ran out, while the switch travelled
        if self.active != was and self.status != "waiting" and client != HOST:
            raise Refused("TURN_MOVED_ON")
        if self.stack and client != HOST:
            raise Refused("PRIORITY_PENDING")
        if self.targeting == "resolving" and client != HOST:
            raise Refused("TARGETS_PENDING")
        pid = self.after(self.active) if target is None else target
        s = self.seat(pid) if pid is not None else None
        if s is None:
            raise Refused("PLAYER_NOT_FOUND")
        if s.out:
            raise Refused("PLAYER_ELIMINATED")
        if not self.events and self.active == s.id:
            return False
        # a turn that passes ends a selection; the host's switch ends targets responding
        if self.active != s.id:
            self.hand_turn(s.id)
        return True

    def update_player(self, client: str, pid: int, update: dict[str, int]) -> bool:
        s = self.seat(pid)
        free = s is not None and self.status == "waiting" and s.holder is None
        if client != HOST and not (s is not None and s.holder == client) and not free:
            raise Refused("NOT_AUTHORIZED_MODIFY")
        if s is None:
            raise Refused("PLAYER_NOT_FOUND")
        if not update:
            return False
        self.settle()
        s.time = update.get("time", s.time)
        if "life" in update:
            self.set_life(s, update["life"])
        if "poison" in update:
            self.set_poison(s, update["poison"])
        s.drunk = update.get("drunkCounter", s.drunk)
        s.generic = update.get("genericCounter", s.generic)
        s.energy = update.get("energy", s.energy)
        s.experience = update.get("experience", s.experience)
        self.check_loss(s)
        return True

    def commander_damage(self, client: str, pid: int, source: int, partner: bool, amount: int) -> bool:
        s = self.seat(pid)
        free = s is not None and self.status == "waiting" and s.holder is None
        if client != HOST and not (s is not None and s.holder == client) and not free:
            raise Refused("NOT_AUTHORIZED_MODIFY")
        if s is None:
            raise Refused("PLAYER_NOT_FOUND")
        if source == pid or self.seat(source) is None:
            raise Refused("INVALID_COMMANDER_SOURCE")
        self.settle()
        cell = 1 if partner else 0
        dealt = s.cmd[source - 1][cell] + amount
        if not 0 <= dealt <= 999 or not MIN_LIFE <= s.life - amount <= 9999:
            raise Refused("COUNTER_OUT_OF_RANGE")
        s.cmd[source - 1][cell] = dealt
        self.set_life(s, s.life - amount)
        self.check_loss(s)
        return True

    def concede(self, client: str) -> bool:
        s = self.holder_seat(client)
        if s is None:
            raise Refused("NOT_AUTHORIZED_CONCEDE")
        self.settle()
        if self.status == "finished":
            raise Refused("GAME_FINISHED")
        if self.status == "waiting":
            raise Refused("CONCEDE_NOT_STARTED")
        if s.out:
            raise Refused("PLAYER_ELIMINATED")
        self.knock_out(s, "concede")
        return True

    def add_penalty(self, client: str, pid: int) -> bool:
        s = self.host_action(client, pid, "NOT_OWNER_PENALTY")
        self.penalise(s)
        return True

    def eliminate(self, client: str, pid: int) -> bool:
        s = self.host_action(client, pid, "NOT_OWNER_ELIMINATE")
        if s.out:
            return bool(self.events)
        self.knock_out(s, "host")
        return True

    def host_action(self, client: str, pid: int, code: str) -> Seat:
        if client != HOST:
            raise Refused(code)
        s = self.seat(pid)
        if s is None:
            raise Refused("PLAYER_NOT_FOUND")
        self.settle()
        if self.status == "finished":
            raise Refused("GAME_FINISHED")
        return s

    def set_format(self, client: str, u: dict[str, Any]) -> bool:
        """updateSettings' format fields (service/formats.py format_updates resolved them): only
        while waiting; a new format or starting life puts everyone at it, a new format clears
        poison."""
        if client != HOST:
            raise Refused("NOT_OWNER_SETTINGS")
        if self.status != "waiting":
            raise Refused("FORMAT_LOCKED")
        if "format" in u and FORMATS[u["format"]].teams and len(self.seats) not in (4, 6, 8):
            raise Refused("TEAMS_NEED_EVEN_PLAYERS")
        self.settle()
        f = self.fmt
        rules = with_overrides(f.loss_rules, u.get("lossRules", {}))
        self.fmt = FormatSettings(u.get("format", f.format), u.get("startingLife", f.starting_life), rules)
        for s in self.seats:
            if "format" in u or "startingLife" in u:
                s.life = self.fmt.starting_life
            if "format" in u:
                s.poison = 0
        return True

    def interrupt(self, client: str) -> bool:
        s = self.holder_seat(client)
        if s is None:
            raise Refused("NOT_AUTHORIZED_INTERRUPT")
        self.settle()
        if self.status != "running":
            raise Refused("GAME_NOT_RUNNING")
        if s.out:
            return False
        if len(self.stack) >= MAX_INTERRUPTS:
            raise Refused("INTERRUPT_STACK_FULL")
        self.stack.append(s.id)
        return True

    def pass_priority(self, client: str) -> bool:
        s = self.holder_seat(client)
        if s is None:
            raise Refused("NOT_AUTHORIZED_PRIORITY")
        self.settle()
        if s.id not in self.stack:
            raise Refused("NOT_IN_INTERRUPT_QUEUE")
        # the caller's last entry, held priority or not
        del self.stack[len(self.stack) - 1 - self.stack[::-1].index(s.id)]
        return True

    def admin(self, client: str, pid: int) -> Seat:
        if client != HOST:
            raise Refused("NOT_OWNER_ADMIN")
        s = self.seat(pid)
        if s is None:
            raise Refused("PLAYER_NOT_FOUND")
        return s

    def add_time(self, client: str, pid: int, ms: int) -> bool:
        s = self.admin(client, pid)
        self.settle()
        before, s.time = s.time, min(MAX_TIME, s.time + ms)
        return s.time != before or bool(self.events)

    def kick(self, client: str, pid: int) -> bool:
        s = self.admin(client, pid)
        if s.holder is None:
            raise Refused("PLAYER_NOT_CLAIMED")
        self.settle()
        self.events.append({"type": "kicked", "data": {"playerId": pid}, "to": s.holder})
        s.holder = None
        if self.status != "finished" and not s.out:
            self.knock_out(s, "kicked")
        return True

    def revive(self, client: str, pid: int) -> bool:
        s = self.admin(client, pid)
        if not s.out:
            raise Refused("PLAYER_NOT_ELIMINATED")
        self.settle()
        mate = self.mate(s)
        for q in (s, mate):
            if q is not None and q.out:
                q.out, q.reason = False, None
                self.clear_choice(q)
                q.time = self.initial if q.time <= 0 else q.time
        if s.life <= 0:
            self.set_life(s, self.fmt.starting_life)
        # back just short of each loss rule that is on
        for q in (s, mate):
            if q is None:
                continue
            limit = 15 if self.teams else 10
            if self.fmt.loss_rules.poison and q.poison >= limit:
                self.set_poison(q, limit - 1)
            if self.fmt.loss_rules.commander_damage:
                q.cmd = [[min(v, 20) for v in pair] for pair in q.cmd]
        if self.status == "finished" and self.sides() >= 2:
            self.status, self.winner = "paused", None
        return True

    def fire_deadline(self) -> bool:
        expired = self.settle()
        return bool(self.events) or expired

    def toggle_target(self, client: str, pid: int) -> bool:
        me = self.holder_seat(client)
        if me is None:
            raise Refused("NOT_AUTHORIZED_TARGET")
        self.settle()
        if self.active != me.id:
            raise Refused("NOT_ACTIVE_SELECT")
        if self.status != "running":
            raise Refused("GAME_NOT_RUNNING")
        if self.stack:
            raise Refused("INTERRUPTS_PENDING")
        if self.targeting == "resolving":
            raise Refused("TARGETS_LOCKED")
        t = self.seat(pid)
        if t is None or t is me or t.out:
            raise Refused("INVALID_TARGET")
        if pid in self.targeted:
            self.targeted.remove(pid)
        elif len(self.targeted) >= MAX_TARGETS:
            raise Refused("TOO_MANY_TARGETS")
        else:
            self.targeted.append(pid)
        # an empty selection is still one being picked
        self.targeting = "selecting"
        data = {
            "targetingState": self.targeting,
            "targetedPlayers": list(self.targeted),
            "awaitingPriority": list(self.awaiting),
            "originalActivePlayer": self.original,
            "activePlayer": self.active,
        }
        self.events.append({"type": "targetingUpdated", "data": data})
        return True

    def confirm_targets(self, client: str) -> bool:
        """Allowed while paused: the targets' clocks then start when the game resumes."""
        self.settle()
        me = self.holder_seat(client)
        if me is None or self.active != me.id:
            raise Refused("NOT_ACTIVE_CONFIRM")
        if self.stack:
            raise Refused("INTERRUPTS_PENDING")
        if self.targeting != "selecting":
            raise Refused("NOT_SELECTING_TARGETS")
        if not self.targeted:
            raise Refused("NO_TARGETS_SELECTED")
        self.targeting, self.original, self.awaiting = "resolving", self.active, list(self.targeted)
        data = {
            "originalPlayer": self.original,
            "targets": list(self.targeted),
            "awaitingPriority": list(self.awaiting),
            "activePlayer": self.active,
        }
        self.events.append({"type": "targetingStarted", "data": data})
        return True

    def pass_target_priority(self, client: str) -> bool:
        self.settle()
        if self.targeting != "resolving":
            raise Refused("NOT_RESOLVING_TARGETS")
        me = self.holder_seat(client)
        if me is None:
            raise Refused("NOT_AUTHORIZED_PRIORITY")
        if me.id not in self.awaiting:
            raise Refused("NOT_AWAITING_PRIORITY")
        self.awaiting.remove(me.id)
        if not self.awaiting:
            self.complete_targeting()
        else:
            data = {"passedBy": me.id, "awaitingPriority": list(self.awaiting), "activePlayer": self.active}
            self.events.append({"type": "priorityPassed", "data": data})
        return True

    def cancel_targeting_by(self, client: str) -> bool:
        """The active player cancels a selection, the original player targets responding;
        the turn is the original player's. Without targeting nothing happens."""
        self.settle()
        if self.targeting == "none":
            return False
        me = self.holder_seat(client)
        if me is None:
            raise Refused("NOT_AUTHORIZED_CANCEL")
        if me.id != (self.active if self.targeting == "selecting" else self.original):
            raise Refused("CANNOT_CANCEL_TARGETING")
        self.cancel_targeting(self.original if self.original is not None else self.active)
        return True

    def timeout_choice(self, client: str, choice: str) -> bool:
        """The caller's pending choice: "die" is out; "loseLives" and "gainDrunk" cost what
        the settings say and restart the clock from timeoutBonusTime (never 0 here, so the
        clock never times out again at once). Allowed while paused, not once finished."""
        s = self.holder_seat(client)
        if s is None:
            raise Refused("NOT_AUTHORIZED_TIMEOUT_CHOICE")
        self.settle()
        if not s.pending:
            raise Refused("NO_TIMEOUT_PENDING")
        if self.status == "finished":
            raise Refused("GAME_FINISHED")
        assert self.choice is not None
        self.clear_choice(s)
        if choice == "die":
            self.knock_out(s, "timeout")
            return True
        if choice == "loseLives":
            self.set_life(s, max(MIN_LIFE, s.life - self.choice.penalty_lives))
        else:
            s.drunk = min(MAX_COUNTER, s.drunk + self.choice.penalty_drunk)
        s.time = self.choice.bonus_time
        if choice == "loseLives":
            self.check_loss(s)
        return True

    def undo(self, client: str, count: int) -> bool:
        """Back to the model kept before the last `count` undoable actions, with the seats'
        holders and running or paused of now (a finished game reopened: paused); its clocks
        run the game's running time since."""
        host, me = client == HOST, self.holder_seat(client)
        if not host and (me is None or count > 1):
            raise Refused("NOT_AUTHORIZED_UNDO")
        if not self.undos:
            raise Refused("NOTHING_TO_UNDO")
        if len(self.undos) < count:
            raise Refused("NOT_ENOUGH_TO_UNDO")
        if not host and me is not None:
            _, seat, at, _ = self.undos[0]
            if seat != me.id:
                raise Refused("NOT_AUTHORIZED_UNDO")
            if self.now - at > UNDO_WINDOW:
                raise Refused("UNDO_WINDOW_PASSED")
        self.settle()
        versions = [v for v, *_ in self.undos[:count]]
        back = copy.deepcopy(self.undos[count - 1][3].model)
        for s in back.seats:
            now_s = self.seat(s.id)
            s.holder = now_s.holder if now_s is not None else s.holder
        self.events.append({"type": "undone", "data": {"versions": versions, "by": me and me.id, "host": host}})
        back.now, back.events = self.now, self.events
        ran = max(0, self.run_time - back.run_time)
        if back.status in ("running", "paused"):
            back.status, back.server_time = "running", self.now - ran
            back.settle()
            if back.status == "running" and self.status != "running":
                back.status = "paused"
        else:
            back.server_time = self.now
        back.run_time, back.version, back.undos = self.run_time, self.version, self.undos[count:]
        self.__dict__.update(back.__dict__)
        return True


@dataclass(frozen=True)
class Kept:
    """An undo snapshot: never changed once kept, so a copy of the model shares it."""

    model: Model

    def __deepcopy__(self, memo: dict[int, Any]) -> Kept:
        return self


def frozen(m: Model) -> Kept:
    """A deep copy of the model to keep as an undo snapshot, without its own undo stack."""
    undos, m.undos = m.undos, []
    try:
        return Kept(copy.deepcopy(m))
    finally:
        m.undos = undos


def stored(st: dict[str, Any], due: float | None) -> dict[str, Any]:
    """The fields of a stored game the model predicts."""
    return {
        "status": st["status"],
        "activePlayer": st["activePlayer"],
        "winner": st["winner"],
        "serverTime": st["serverTime"],
        "version": st["version"],
        "runTime": st.get("runTime", 0),
        "undoDepth": st["undoDepth"],
        "stack": st["interruptingPlayers"],
        "targeting": (st["targetingState"], st["targetedPlayers"], st["awaitingPriority"], st["originalActivePlayer"]),
        "due": due,
        "turns": (
            st["turn"],
            st["round"],
            st["turnTime"],
            st["firstPlayer"],
            [(p["timeUsed"], p["turns"]) for p in st["players"]],
        ),
        "players": [
            (
                p["id"],
                p["timeRemaining"],
                p["penalties"],
                p["isEliminated"],
                p["life"],
                p["drunkCounter"],
                p["genericCounter"],
                p["claimedBy"],
                p.get("timeoutPending"),
                p.get("timeoutGraceLeft"),
                p.get("timeoutChoiceDeadline"),
                (p["poison"], p["energy"], p["experience"], p["commanderDamage"], p["eliminatedReason"]),
            )
            for p in st["players"]
        ],
    }


def predicted(m: Model) -> dict[str, Any]:
    due = m.due()
    return {
        "status": m.status,
        "activePlayer": m.active,
        "winner": m.winner,
        "serverTime": m.server_time,
        "version": m.version,
        "runTime": m.run_time,
        "undoDepth": len(m.undos),
        "stack": m.stack,
        "targeting": (m.targeting, m.targeted, m.awaiting, m.original),
        "due": None if due is None else float(due),
        "turns": (m.turn, m.round, m.turn_time, m.first, [(s.used, s.turns) for s in m.seats]),
        "players": [
            (
                *(s.id, s.time, s.penalties, s.out, s.life, s.drunk, s.generic, s.holder, s.pending, s.grace),
                m.deadline(s),
                (s.poison, s.energy, s.experience, s.cmd, s.reason),
            )
            for s in m.seats
        ],
    }


ACTORS = hs.sampled_from([HOST, HOST, HOST, HOST, "active", "c1", "c2", SPECTATOR])
#: for what a seat does for itself (interrupt, pass priority): the host holds none
SEAT_ACTORS = hs.sampled_from(["active", "active", "c1", "c2", "c3", SPECTATOR])
#: mostly seats every game has, sometimes one it may lack
PIDS = hs.sampled_from([1, 1, 2, 2, 3, 4, 8])
UPDATES = hs.fixed_dictionaries(
    {},
    optional={
        "life": hs.sampled_from([-3, 0, 1, 7]),
        "drunkCounter": hs.integers(0, 3),
        "genericCounter": hs.integers(0, 3),
        "time": hs.sampled_from([0, U // 2, 3 * U // 2, 5 * U // 2]),
        "poison": hs.sampled_from([0, 3, 9, 10, 15]),
        "energy": hs.integers(0, 2),
        "experience": hs.integers(0, 2),
    },
)


class GameRules(RuleBasedStateMachine):
    url = ""

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.client = Redis.from_url(self.url, decode_responses=True)
        self.clock = GameClock()
        self.pinned_at = time.monotonic()
        store = GameStore(
            self.client,
            Scripts(self.client),
            self.clock,
            retention_s=3600,
            idle_retention_s=600,
            token_ttl_s=7200,
            action_timeout_s=5,
        )
        self.h = Harness(store, self.clock, Published(self.client))
        self.run(self.client.flushall())
        self.run(self.h.published.start())
        self.t = (self.run(self.h.redis_now()) // U + 1) * U
        self.gid = ""
        self.model: Model | None = None

    def run(self, aw: Awaitable[T]) -> T:
        return self.loop.run_until_complete(aw)

    def teardown(self) -> None:
        self.run(self.h.published.close())
        self.run(self.client.aclose())
        self.loop.close()

    def pin(self) -> None:
        """Game time = the grid time now (plus the few ms until the script reads TIME)."""
        self.clock.offset_ms = self.t - self.run(self.h.redis_now())
        self.pinned_at = time.monotonic()

    def bound_drift(self) -> None:
        """Time passes by a unit, as in a step, once the game time has run MAX_DRIFT_MS past
        the grid time: pinning again to the same `t` would turn the game's clock back."""
        if (time.monotonic() - self.pinned_at) * 1000 > MAX_DRIFT_MS:
            self.t = self.clear_of_boundaries(self.t + U)
            self.pin()

    def clear_of_boundaries(self, t: int) -> int:
        """`t`, or a little later when something falls due in the drift a script's time may
        have past `t` (the grid keeps the clocks' own boundaries off it, not a chain of turn
        caps: each cap counts from the last one's exact time). Decided by the model: what a
        settle at t and one at t + U/4 give must be the same."""

        def outcome(now: int) -> Any:
            m = copy.deepcopy(self.game)
            m.now, m.events = now, []
            m.settle()
            return [e["type"] for e in m.events], m.status, m.active, m.turn, [(s.out, s.pending) for s in m.seats]

        for _ in range(8):
            if outcome(t) == outcome(t + U // 4):
                break
            t += U // 4
        return t

    def who(self, actor: str) -> str:
        """'active' is whoever holds the active player's seat, 'target' the first target's
        still to respond (else the first picked), 'pending' the first seat's with a pending
        timeout choice; a spectator if nobody does."""
        m = self.game
        pids: dict[str, list[int | None]] = {
            "active": [m.active],
            "target": [*m.awaiting, *m.targeted],
            "pending": [s.id for s in m.seats if s.pending],
        }
        if actor not in pids:
            return actor
        pid = next(iter(pids[actor]), None)
        s = m.seat(pid) if pid is not None else None
        return s.holder if s is not None and s.holder is not None else SPECTATOR

    @property
    def game(self) -> Model:
        assert self.model is not None
        return self.model

    def decide(self, rule: Callable[[Model], bool], now: int) -> str:
        """What the model answers to an action at `now`: ok, noop or the refusal's code."""
        guess = copy.deepcopy(self.game)
        guess.now, guess.events = now, []
        try:
            return "ok" if rule(guess) else "noop"
        except Refused as r:
            return r.code

    def play(self, rule: Callable[[Model], bool], call: Callable[[], Awaitable[Outcome]]) -> None:
        """Run one action in the model and in Redis and hold them to the same result.

        The model decides at the grid time. Where Redis answers otherwise, the model decides
        again at the latest time the script can have read, and Redis must agree with that:
        something that fell due in the drift between the two (two fresh-clone CI runs saw a
        clock run out or a turn pass there, under load) is Redis's answer to a later time."""
        self.bound_drift()
        expected = self.decide(rule, self.t)
        self.run(self.h.published.drain())
        before = self.run(self.h.snapshot(self.gid))
        out: Outcome | None
        got: str
        try:
            out = self.run(call())
            got = out.status
        except GameError as e:
            out, got = None, e.code
        if got != expected:
            late = self.run(self.h.redis_now()) + self.clock.offset_ms
            at_late = self.decide(rule, late)
            assert got == at_late, f"Redis answered {got}, the model {expected} ({at_late} {late - self.t} ms later)"
        published = self.run(self.h.published.drain())
        if out is None or got == "noop":
            assert self.run(self.h.snapshot(self.gid)) == before, "a refused or empty action changed the game"
            assert published == [], "a refused or empty action published"
        else:
            # replay with the exact time the script used, so clocks compare to the ms
            actual = copy.deepcopy(self.game)
            actual.now, actual.events = out.state["lastActivity"], []
            assert rule(actual)
            actual.version += 1
            version, events, state = published[0][1].split("\n", 2) if len(published) == 1 else ("", "", "")
            assert (len(published), version, state) == (1, str(actual.version), out.state_json)
            assert json.loads(events) == actual.events, "published events differ from the model's"
            self.keep_undo(actual, self.game)
            self.model = actual
        st = json.loads(self.run(self.h.raw_state(self.gid)) or "null")
        assert stored(st, self.run(self.h.due(self.gid))) == predicted(self.game)

    def keep_undo(self, m: Model, before: Model) -> None:
        """The undo stack after a commit, by the kind and actor's seat the log entry records;
        `before` is the model just before the action."""
        entry = json.loads(self.run(self.client.lindex(keys.log(self.gid), 0)) or "null")
        if entry["t"] in UNDOABLE:
            m.undos = [(m.version, entry["p"], m.now, frozen(before)), *m.undos][:UNDO_CAP]
        elif entry["t"] not in UNDO_NEUTRAL:
            m.undos = []

    # -- rules ------------------------------------------------------------------------------

    @initialize(
        count=hs.integers(2, 8),
        halves=hs.integers(1, 6),
        thresholds=hs.sets(hs.integers(1, 5), min_size=1, max_size=3),
        penalty=hs.sampled_from(["warning", "time_deduction", "game_loss"]),
        deduction=hs.integers(0, 3),
        started=hs.sampled_from([True, True, True, False]),
        fmt=hs.sampled_from(list(FORMATS)),
        life=hs.none() | hs.sampled_from([1, 5, 40]),
        rules=hs.one_of(hs.none(), hs.none(), hs.builds(LossRules, hs.booleans(), hs.booleans(), hs.booleans())),
        choice=hs.none()
        | hs.builds(
            TimeoutRules,
            penalty_lives=hs.sampled_from([0, 3, 10, 20]),
            penalty_drunk=hs.sampled_from([0, 2, 20]),
            # the grace counts from a clock's zero, off the grid: a multiple of U keeps its
            # end off it; the clock restarts on the grid, from an odd multiple of U/2
            grace_period=hs.integers(2, 12).map(lambda n: n * U),
            bonus_time=hs.integers(0, 4).map(lambda n: n * U + U // 2),
        ),
        control=hs.sampled_from(CONTROLS),
    )
    def create(
        self,
        count: int,
        halves: int,
        thresholds: set[int],
        penalty: str,
        deduction: int,
        started: bool,
        fmt: str,
        life: int | None,
        rules: LossRules | None,
        choice: TimeoutRules | None,
        control: TimeControl | None,
    ) -> None:
        """A new game; most of them seated (c1, c2, c3 in seats 1 to 3) and started at once,
        so most sequences spend their steps on running clocks. Half are HEAD games with the
        timeout choice (a v1 game's players carry none of its fields)."""
        initial = halves * U + U // 2
        warn = tuple(sorted((t * U for t in thresholds), reverse=True))
        if FORMATS[fmt].teams:
            # two-headed giant: teams of two, at a table of 4, 6 or 8
            count = max(4, count + count % 2)
        preset = FORMATS[fmt]
        table = FormatSettings(fmt, life or preset.starting_life, rules or preset.loss_rules)
        settings = GameSettings(
            count,
            initial,
            warn,
            penalty,
            deduction * U,
            timeout=choice,
            format=table,
            time_control=control,
            undo_window=UNDO_WINDOW,
        )
        self.pin()
        self.gid, _, out = self.run(self.h.store.create(HOST, settings, new_aid()))
        now = out.state["serverTime"]
        pending = None if choice is None else False
        self.model = Model(
            [
                Seat(i, initial, pending=pending, life=table.starting_life, cmd=[[0, 0] for _ in range(count)])
                for i in range(1, count + 1)
            ],
            initial,
            warn,
            penalty,
            deduction * U,
            now,
            now,
            choice=choice,
            fmt=table,
        )
        if control is not None:
            m = self.game
            m.control, m.control_ms, m.lead = control.kind, control.amount_ms or 0, control.warning_ms or 0
        st = json.loads(self.run(self.h.raw_state(self.gid)) or "null")
        assert stored(st, self.run(self.h.due(self.gid))) == predicted(self.game)
        if started:
            for client, pid in zip(SEATED, range(1, count + 1), strict=False):
                self.claim(client, pid)
            self.start(HOST)

    @rule(client=hs.sampled_from(SEATED), pid=PIDS)
    def claim(self, client: str, pid: int) -> None:
        async def call() -> Outcome:
            return (await self.h.store.claim(self.gid, client, pid, new_aid()))[1]

        self.play(lambda m: m.claim(client, pid), call)

    @rule(client=hs.sampled_from(SEATED), leave=hs.booleans())
    def unclaim(self, client: str, leave: bool) -> None:
        store = self.h.store
        self.play(
            lambda m: m.release(client),
            lambda: store.leave(self.gid, client, new_aid()) if leave else store.unclaim(self.gid, client, new_aid()),
        )

    @rule(actor=ACTORS)
    def start(self, actor: str) -> None:
        who = self.who(actor)
        self.play(lambda m: m.start(who), lambda: self.h.store.start(self.gid, who, new_aid()))

    @rule(actor=ACTORS)
    def pause(self, actor: str) -> None:
        who = self.who(actor)
        self.play(lambda m: m.pause(who), lambda: self.h.store.pause(self.gid, who, new_aid()))

    @rule(actor=ACTORS)
    def reset(self, actor: str) -> None:
        who = self.who(actor)
        self.play(lambda m: m.reset(who), lambda: self.h.store.reset(self.gid, who, new_aid()))

    @rule(actor=hs.one_of(ACTORS, SEAT_ACTORS), pid=PIDS)
    def switch(self, actor: str, pid: int) -> None:
        who = self.who(actor)
        self.play(lambda m: m.switch(who, pid), lambda: self.h.store.switch(self.gid, who, new_aid(), pid))

    @rule(actor=hs.one_of(ACTORS, SEAT_ACTORS))
    def pass_turn(self, actor: str) -> None:
        who = self.who(actor)
        self.play(lambda m: m.switch(who, None), lambda: self.h.store.switch(self.gid, who, new_aid(), "next"))

    @rule(actor=ACTORS, pid=PIDS, update=UPDATES)
    def update_player(self, actor: str, pid: int, update: dict[str, int]) -> None:
        who = self.who(actor)
        self.play(
            lambda m: m.update_player(who, pid, update),
            lambda: self.h.store.update_player(self.gid, who, new_aid(), pid, update),
        )

    @rule(
        actor=ACTORS,
        pid=PIDS,
        source=PIDS,
        partner=hs.booleans(),
        amount=hs.sampled_from([-5, 1, 7, 21, 99]),
    )
    def commander_damage(self, actor: str, pid: int, source: int, partner: bool, amount: int) -> None:
        who = self.who(actor)
        self.play(
            lambda m: m.commander_damage(who, pid, source, partner, amount),
            lambda: self.h.store.commander_damage(self.gid, who, new_aid(), pid, source, partner, amount),
        )

    @rule(pid=PIDS, poison=hs.sampled_from([1, 9, 10, 14, 15]))
    def poison(self, pid: int, poison: int) -> None:
        """The host sets a poison count near a limit (10; 15 in two-headed giant): random
        updates seldom land there."""
        self.update_player(HOST, pid, {"poison": poison})

    @rule(actor=SEAT_ACTORS)
    def concede(self, actor: str) -> None:
        who = self.who(actor)
        self.play(lambda m: m.concede(who), lambda: self.h.store.concede(self.gid, who, new_aid()))

    @rule(
        actor=ACTORS,
        fmt=hs.none() | hs.sampled_from(list(FORMATS)),
        life=hs.none() | hs.sampled_from([1, 5, 40]),
        rules=hs.fixed_dictionaries(
            {}, optional={"life": hs.booleans(), "poison": hs.booleans(), "commanderDamage": hs.booleans()}
        ),
    )
    def set_format(self, actor: str, fmt: str | None, life: int | None, rules: dict[str, bool]) -> None:
        """updateSettings with format fields, as the service resolves them."""
        data: dict[str, Any] = {"format": fmt, "startingLife": life, "lossRules": rules or None}
        updates = format_updates({k: v for k, v in data.items() if v is not None})
        if not updates:
            return
        who = self.who(actor)
        gid, store = self.gid, self.h.store
        self.play(lambda m: m.set_format(who, updates), lambda: store.update_settings(gid, who, new_aid(), updates))

    @rule(actor=ACTORS, pid=PIDS)
    def add_penalty(self, actor: str, pid: int) -> None:
        who = self.who(actor)
        self.play(lambda m: m.add_penalty(who, pid), lambda: self.h.store.add_penalty(self.gid, who, new_aid(), pid))

    @rule(actor=ACTORS, pid=PIDS)
    def eliminate(self, actor: str, pid: int) -> None:
        who = self.who(actor)
        self.play(lambda m: m.eliminate(who, pid), lambda: self.h.store.eliminate(self.gid, who, new_aid(), pid))

    @rule(how=hs.sampled_from(["eliminate", "kick", "life"]), whom=hs.sampled_from(["priority", "priority", "target"]))
    def knock_out_priority(self, how: str, whom: str) -> None:
        """The host takes out whoever holds priority (the active player when nobody
        interrupted; while targets respond the original player) or a target (the first
        still to respond, else the first picked): random player ids rarely hit the one seat
        that matters here."""
        m = self.game
        pids = [*m.stack[-1:], *[m.active or 1]] if whom == "priority" else [*m.awaiting, *m.targeted, 1]
        pid = pids[0]
        if how == "eliminate":
            self.eliminate(HOST, pid)
        elif how == "kick":
            self.kick(HOST, pid)
        else:
            self.update_player(HOST, pid, {"life": 0})

    @rule(
        what=hs.sampled_from(["next", "next", "toggle", "confirm", "pass", "pass", "cancel"]),
        actor=hs.sampled_from(["own", "own", "own", "c1", "c2", "c3", SPECTATOR]),
        pid=PIDS,
        confirm=hs.booleans(),
        passes=hs.integers(0, 2),
    )
    def targeting(self, what: str, actor: str, pid: int, confirm: bool, passes: int) -> None:
        """One rule for the four targeting actions, so that time still passes often. "own"
        is whoever the action is for: the active player's holder, a target's for a pass.
        "next" is the active player picking the next `pid` % 3 + 1 players still in after
        it (random ids seldom name a valid target); with `confirm` a pick is confirmed at
        once, and then the first `passes` targets respond (else targets would seldom get
        to: each step is one rule among twenty)."""
        m = self.game
        who = self.who(("target" if what == "pass" else "active") if actor == "own" else actor)
        if what == "pass":
            self.respond(who)
            return
        if what == "cancel":
            self.play(
                lambda m: m.cancel_targeting_by(who), lambda: self.h.store.cancel_targeting(self.gid, who, new_aid())
            )
            return
        picks = [pid] if what == "toggle" else []
        at = m.active
        for _ in range(pid % 3 + 1 if what == "next" else 0):
            at = m.after(at)
            if at is None or at == m.active or at in picks:
                break
            picks.append(at)
        for target in picks:
            self.pick(who, target)
        if confirm or what == "confirm":
            self.play(lambda m: m.confirm_targets(who), lambda: self.h.store.confirm_targets(self.gid, who, new_aid()))
        for _ in range(passes if what == "next" and confirm else 0):
            self.respond(self.who("target"))

    def respond(self, who: str) -> None:
        self.play(
            lambda m: m.pass_target_priority(who), lambda: self.h.store.pass_target_priority(self.gid, who, new_aid())
        )

    def pick(self, who: str, target: int) -> None:
        self.play(
            lambda m: m.toggle_target(who, target), lambda: self.h.store.toggle_target(self.gid, who, new_aid(), target)
        )

    def hold(self, pid: int | None, keep: int | None = None) -> str:
        """The holder of seat `pid`, claiming it first through the claim rule for a seated
        client that holds no seat, else one that does not hold seat `keep`."""
        m = self.game
        s = m.seat(pid) if pid is not None else None
        if s is None:
            return SPECTATOR
        if s.holder is None:
            free = [c for c in SEATED if not m.seated(c)]
            others = [c for c in SEATED if (h := m.holder_seat(c)) is None or h.id != keep]
            client = next(iter(free + others), None)
            if client is not None:
                self.claim(client, s.id)
        s = self.game.seat(s.id)
        return s.holder if s is not None and s.holder is not None else SPECTATOR

    @rule(
        count=hs.integers(1, 2),
        ending=hs.sampled_from(["respond", "respond", "pass_selecting", "pass_resolving", "switch", "host_switch"]),
    )
    def target_scenario(self, count: int, ending: str) -> None:
        """A whole targeting exchange in a running game (the targeting rule's random actors
        mostly miss: the active seat is often unheld): the active seat's holder (claimed
        first if need be) picks the next `count` players still in and confirms, then a
        target's holder responds, the active holder tries to pass the turn or to switch
        (TARGETS_PENDING), or the host switches (ending it); with "pass_selecting" the turn
        passes before the confirm, which ends the selection."""
        if self.game.status != "running":
            self.start(HOST)
        m = self.game
        if m.status != "running" or m.active is None:
            return
        who = self.hold(m.active)
        at: int | None = m.active
        for _ in range(count):
            at = self.game.after(at)
            if at is None or at == self.game.active:
                break
            self.pick(who, at)
        if ending == "pass_selecting":
            self.pass_turn("active")
            return
        self.play(lambda m: m.confirm_targets(who), lambda: self.h.store.confirm_targets(self.gid, who, new_aid()))
        m = self.game
        if ending == "respond":
            target = next(iter(m.awaiting), None)
            self.respond(self.hold(target, keep=m.original))
        elif ending == "pass_resolving":
            self.pass_turn("active")
        elif ending == "switch":
            self.switch("active", m.after(m.active) or 1)
        else:
            self.switch(HOST, m.after(m.active) or 1)

    @rule(
        actor=hs.sampled_from(["pending", "pending", "pending", "c1", "c2", "c3", SPECTATOR]),
        choice=hs.sampled_from(["loseLives", "gainDrunk", "die"]),
    )
    def timeout_choice(self, actor: str, choice: str) -> None:
        """'pending' is the holder of the first seat with a pending choice."""
        who = self.who(actor)
        self.play(
            lambda m: m.timeout_choice(who, choice),
            lambda: self.h.store.timeout_choice(self.gid, who, new_aid(), choice),
        )

    @rule(actor=SEAT_ACTORS)
    def interrupt(self, actor: str) -> None:
        who = self.who(actor)
        self.play(lambda m: m.interrupt(who), lambda: self.h.store.interrupt(self.gid, who, new_aid()))

    @rule(actor=SEAT_ACTORS)
    def pass_priority(self, actor: str) -> None:
        who = self.who(actor)
        self.play(lambda m: m.pass_priority(who), lambda: self.h.store.pass_priority(self.gid, who, new_aid()))

    @rule(actor=ACTORS, pid=PIDS, minutes=hs.sampled_from([1, 2]))
    def add_time(self, actor: str, pid: int, minutes: int) -> None:
        # whole minutes are multiples of U: a clock's boundaries stay off the time grid
        who, ms = self.who(actor), minutes * 60_000
        self.play(
            lambda m: m.add_time(who, pid, ms), lambda: self.h.store.admin_add_time(self.gid, who, new_aid(), pid, ms)
        )

    @rule(actor=ACTORS, pid=PIDS)
    def kick(self, actor: str, pid: int) -> None:
        who = self.who(actor)
        self.play(lambda m: m.kick(who, pid), lambda: self.h.store.admin_kick(self.gid, who, new_aid(), pid))

    @rule(actor=ACTORS, pid=PIDS)
    def revive(self, actor: str, pid: int) -> None:
        who = self.who(actor)
        self.play(lambda m: m.revive(who, pid), lambda: self.h.store.admin_revive(self.gid, who, new_aid(), pid))

    @rule(
        actor=hs.sampled_from([HOST, "last", "last", "last", "c1", SPECTATOR]),
        count=hs.sampled_from([1, 1, 2, 3]),
        late=hs.sampled_from([0, 0, 3]),
        first=hs.sampled_from([None, None, "pass", "life"]),
    )
    def undo(self, actor: str, count: int, late: int, first: str | None) -> None:
        """'last' is the holder of the seat whose action is on top of the undo stack. With
        `first`, in a running game, the active seat's holder (claimed first if need be)
        passes the turn or sets its own life first (random actors seldom act for their own
        seat). With `late` that many units pass before the undo (three: past the window)."""
        m = self.game
        if first is not None and m.status == "running" and m.active is not None:
            self.hold(m.active)
            if first == "pass":
                self.pass_turn("active")
            else:
                self.update_player("active", m.active, {"life": 5})
        self.t += late * U
        self.pin()
        m = self.game
        seat = m.seat(m.undos[0][1] or 0) if actor == "last" and m.undos else None
        who = (seat.holder or SPECTATOR) if seat is not None else actor if actor != "last" else SPECTATOR
        self.play(lambda m: m.undo(who, count), lambda: self.h.store.undo(self.gid, who, new_aid(), count))

    @rule(
        units=hs.sampled_from([1, 1, 1, 2, 2, 3, 5, 8]),
        fire=hs.booleans(),
        resume=hs.booleans(),
        answer=hs.sampled_from([None, None, "loseLives", "gainDrunk", "die"]),
    )
    def step(self, units: int, fire: bool, resume: bool, answer: str | None) -> None:
        """Time passes; with `fire` the deadline loop then does its work on the game. With
        `resume` the host starts the clock first (else most steps would pass in a waiting
        game: start is one rule among twenty, reset and timeouts stop the clock). With an
        `answer` a player whose timeout choice is pending then answers it (else most
        choices would run out first)."""
        if resume:
            self.start(HOST)
        self.t = self.clear_of_boundaries(self.t + units * U)
        self.pin()
        if fire:
            self.play(lambda m: m.fire_deadline(), lambda: self.h.store.fire_deadline(self.gid))
        if answer is not None and any(s.pending for s in self.game.seats):
            self.timeout_choice("pending", answer)


def test_the_scripts_follow_the_model(redis_proc: RedisProcess) -> None:
    if not redis_proc.is_running():
        redis_proc.start()
    GameRules.url = redis_proc.url
    run_state_machine_as_test(
        GameRules,
        settings=settings(
            max_examples=200,
            stateful_step_count=50,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=[HealthCheck.too_slow],
            # the explain phase traces every line the scripts' callers run: minutes, not seconds
            phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
        ),
    )
