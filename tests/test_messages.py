"""The message types, each declared once (service/messages): envelope parsing against them,
what the registry derives from the declarations, and their grouping by domain."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from service import messages, protocol
from service.messages import (
    admin,
    base,
    clock,
    dice,
    feedback,
    history,
    lobby,
    players,
    priority,
    seats,
    settings,
    targeting,
    timeout,
    turns,
)
from tests.support.refusals import invalid

# -- parse: the envelope ---------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "not json", "{", '{"type": "time",}', "{'type': 'time'}", "[" * 100_000])
def test_parse_rejects_text_that_is_not_json(text: str) -> None:
    assert invalid(messages.parse, text) == "Invalid JSON"


@pytest.mark.parametrize("text", ["[]", '["time"]', "1", "null", '"time"', "true"])
def test_parse_rejects_json_that_is_not_an_object(text: str) -> None:
    assert invalid(messages.parse, text) == "Invalid message format"


@pytest.mark.parametrize(
    "obj",
    [{}, {"type": None}, {"type": ""}, {"type": 1}, {"type": True}, {"type": ["time"]}, {"data": {}}],
)
def test_parse_rejects_a_missing_or_non_string_type(obj: dict[str, Any]) -> None:
    assert invalid(messages.parse, json.dumps(obj)) == "Invalid message type"


@pytest.mark.parametrize("mtype", ["bogus", "Time", "TIME", "state", "tick", "clientId", "ping", "time "])
def test_parse_rejects_an_unknown_type(mtype: str) -> None:
    assert invalid(messages.parse, json.dumps({"type": mtype}), code="UNKNOWN_TYPE") == "Unknown message type"


@pytest.mark.parametrize("data", [[], [1], "x", 1, 0, True, False, 1.5])
def test_parse_rejects_data_that_is_not_an_object(data: Any) -> None:
    assert invalid(messages.parse, json.dumps({"type": "time", "data": data})) == "Invalid message data"


@pytest.mark.parametrize("rid", [1, 0, True, "", "x" * 65, ["r1"], {"id": "r1"}])
def test_parse_rejects_a_bad_request_id(rid: Any) -> None:
    assert invalid(messages.parse, json.dumps({"type": "time", "requestId": rid})) == "Invalid requestId"


def test_parse_checks_the_request_id_before_the_type() -> None:
    assert invalid(messages.parse, json.dumps({"type": "bogus", "requestId": 5})) == "Invalid requestId"


def test_parse_checks_the_type_before_the_data() -> None:
    assert (
        invalid(messages.parse, json.dumps({"type": "bogus", "data": []}), code="UNKNOWN_TYPE")
        == "Unknown message type"
    )


def test_parse_accepts_every_documented_type() -> None:
    documented = {
        "create", "join", "reconnect", "claim", "unclaim", "leave", "start", "pause", "reset", "switch",
        "passTurn", "updatePlayer", "addPenalty", "eliminate", "updateSettings", "time",
        "rollDice", "rollPlayOrder", "randomStartPlayer",
        "adminAddTime", "adminKick", "adminRevive",
        "feedback", "loadFeedbacks", "updateFeedback", "deleteFeedback",
        "renameGame", "setListed", "endGame",
        "interrupt", "passPriority", "timeoutChoice",
        "toggleTarget", "confirmTargets", "passTargetPriority", "cancelTargeting",
        "commanderDamage", "concede",
        "transferHost", "claimHost", "moveSeat", "freeSeat",
        "history", "undo",
    }  # fmt: skip
    assert set(messages.TYPES) == documented
    for mtype in sorted(documented):
        assert messages.parse(json.dumps({"type": mtype})).type == mtype


def test_parse_returns_type_data_and_request_id() -> None:
    msg = messages.parse(json.dumps({"type": "claim", "data": {"playerId": 2}, "requestId": "abc"}))
    assert msg == protocol.Message("claim", {"playerId": 2}, "abc")


def test_parse_treats_missing_or_null_data_as_an_empty_object() -> None:
    assert messages.parse('{"type":"start"}') == protocol.Message("start", {}, None)
    assert messages.parse('{"type":"start","data":null}') == protocol.Message("start", {}, None)


def test_parse_accepts_a_null_request_id_as_absent() -> None:
    assert messages.parse('{"type":"start","requestId":null}').request_id is None


def test_parse_accepts_request_ids_up_to_64_characters() -> None:
    rid = "r" * 64
    assert messages.parse(json.dumps({"type": "time", "requestId": rid})).request_id == rid


def test_parse_ignores_unknown_envelope_keys() -> None:
    assert messages.parse('{"type":"time","extra":1}') == protocol.Message("time", {}, None)


# -- the registry ------------------------------------------------------------------------


def test_each_domain_declares_its_own_types() -> None:
    names = {
        m: {t.name for t in m.TYPES}
        for m in (
            seats,
            turns,
            priority,
            timeout,
            targeting,
            players,
            settings,
            clock,
            dice,
            admin,
            history,
            feedback,
            lobby,
        )
    }
    assert names == {
        seats: {"create", "join", "reconnect", "claim", "unclaim", "leave", "transferHost", "claimHost"},
        turns: {"start", "pause", "reset", "switch", "passTurn"},
        priority: {"interrupt", "passPriority"},
        timeout: {"timeoutChoice"},
        targeting: {"toggleTarget", "confirmTargets", "passTargetPriority", "cancelTargeting"},
        players: {"updatePlayer", "commanderDamage", "addPenalty", "eliminate", "concede"},
        settings: {"updateSettings"},
        clock: {"time"},
        dice: {"rollDice", "rollPlayOrder", "randomStartPlayer"},
        admin: {"adminAddTime", "adminKick", "adminRevive", "moveSeat", "freeSeat"},
        history: {"history", "undo"},
        feedback: {"feedback", "loadFeedbacks", "updateFeedback", "deleteFeedback"},
        lobby: {"renameGame", "setListed", "endGame"},
    }
    assert set(messages.REGISTRY) == messages.TYPES == set().union(*names.values())


def test_the_seat_actions_are_the_identity_actions_and_only_they_take_anyone() -> None:
    assert {t.name for t in seats.TYPES} == messages.IDENTITY_ACTIONS
    anyone = {name for name, t in messages.REGISTRY.items() if t.sender is base.Sender.ANYONE}
    # the feedback types need no game (as in the original)
    assert anyone == {
        "create",
        "join",
        "reconnect",
        "time",
        "feedback",
        "loadFeedbacks",
        "updateFeedback",
        "deleteFeedback",
    }


def test_a_type_declared_twice_is_refused() -> None:
    again: base.MessageType[Any] = base.MessageType("time", protocol.client_time, base.Sender.ANYONE, clock.server_time)
    with pytest.raises(ValueError, match="'time' declared twice"):
        messages._registry(clock.TYPES, (again,))


def test_message_labels_are_the_declared_types_or_unknown() -> None:
    assert {messages.message_label(t) for t in messages.TYPES} == set(messages.TYPES)
    assert messages.message_label("bogus") == messages.message_label(None) == "unknown"


def test_the_envelope_is_checked_against_the_types_given() -> None:
    assert protocol.parse('{"type":"x"}', {"x"}) == protocol.Message("x", {}, None)
    assert invalid(protocol.parse, '{"type":"time"}', set(), code="UNKNOWN_TYPE") == "Unknown message type"


def test_frames_after_the_state_need_a_state() -> None:
    with pytest.raises(ValueError):
        base.Reply(then=(("claimed", {}),))


# -- the protocol doc: every HEAD message listed, every addition marked ---------------------

#: original-behaviour.md B5.2 (every client -> server type of HEAD) and A3.4 (v1's)
HEAD_CLIENT_TYPES = [
    "create",
    "join",
    "start",
    "pause",
    "reset",
    "switch",
    "passTurn",
    "endGame",
    "renameGame",
    "interrupt",
    "passPriority",
    "randomStartPlayer",
    "rollDice",
    "rollPlayOrder",
    "adminRevive",
    "adminKick",
    "adminAddTime",
    "timeoutChoice",
    "updatePlayer",
    "addPenalty",
    "eliminate",
    "updateSettings",
    "claim",
    "reconnect",
    "unclaim",
    "feedback",
    "loadFeedbacks",
    "updateFeedback",
    "deleteFeedback",
    "toggleTarget",
    "confirmTargets",
    "passTargetPriority",
    "cancelTargeting",
]
V1_CLIENT_TYPES = [
    "create",
    "join",
    "start",
    "pause",
    "reset",
    "switch",
    "updatePlayer",
    "addPenalty",
    "eliminate",
    "updateSettings",
    "claim",
    "reconnect",
    "unclaim",
]
#: B5.3 (every server -> client type HEAD added) and A3.5 (v1's); HEAD stopped sending `timeout`
HEAD_SERVER_TYPES = [
    "timeoutChoice",
    "gameComplete",
    "campaignComplete",
    "gameEnded",
    "kicked",
    "gameRenamed",
    "randomPlayerSelected",
    "diceRolled",
    "playOrderRolled",
    "targetingUpdated",
    "targetingStarted",
    "priorityPassed",
    "targetingComplete",
    "targetingCanceled",
    "feedbackSubmitted",
    "feedbackUpdated",
    "feedbackDeleted",
    "feedbackList",
]
V1_SERVER_TYPES = [
    "clientId",
    "state",
    "tick",
    "timeout",
    "warning",
    "claimed",
    "reconnected",
    "error",
    "shutdown_warning",
]


def doc_rows(section: str) -> dict[str, str]:
    """type -> its marker (`HEAD`, `new` or ``) from the first table under `section`."""
    text = (Path(__file__).parent.parent / "docs" / "protocol.md").read_text(encoding="utf-8")
    table = text.split(section, 1)[1].split("\n\n", 2)[1]
    rows = re.findall(r"^\| `(\w+)`(?: \*\*(\w+)\*\*)? \|", table, re.MULTILINE)
    return dict(rows)


def test_the_protocol_doc_lists_every_client_message_head_and_ours_marked() -> None:
    rows = doc_rows("### Client → server")
    assert set(rows) == set(messages.TYPES)
    assert set(HEAD_CLIENT_TYPES) <= set(messages.TYPES)
    for mtype, marker in rows.items():
        expected = "" if mtype in V1_CLIENT_TYPES else "HEAD" if mtype in HEAD_CLIENT_TYPES else "new"
        assert marker == expected, mtype


def test_the_protocol_doc_lists_every_server_message_head_and_ours_marked() -> None:
    rows = doc_rows("### Server → client")
    assert set(HEAD_SERVER_TYPES) | set(V1_SERVER_TYPES) <= set(rows)
    for mtype, marker in rows.items():
        expected = "" if mtype in V1_SERVER_TYPES else "HEAD" if mtype in HEAD_SERVER_TYPES else "new"
        assert marker == expected, mtype
