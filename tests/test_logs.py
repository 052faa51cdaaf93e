"""Log set-up: one JSON object per line, or readable text, on the root logger."""

from __future__ import annotations

import io
import json
import logging
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from service.logs import CLIENT_ID, GAME_ID, JsonFormatter, configure

TS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


@contextmanager
def configured(level: str, fmt: str, instance_id: str) -> Iterator[io.StringIO]:
    """configure() for the duration of the block, its output captured; the root logger and
    aiohttp's access logger are restored after, whatever pytest had attached to them."""
    root = logging.getLogger()
    access = logging.getLogger("aiohttp.access")
    saved = (root.handlers[:], root.level, access.level)
    out = io.StringIO()
    try:
        configure(level, fmt, instance_id)
        [handler] = root.handlers
        assert isinstance(handler, logging.StreamHandler)
        handler.setStream(out)
        yield out
    finally:
        root.handlers[:], root.level = saved[0], saved[1]
        access.setLevel(saved[2])


def record(msg: str, *args: object, level: int = logging.INFO, **extra: object) -> logging.LogRecord:
    rec = logging.LogRecord("service.test", level, __file__, 1, msg, args, None)
    rec.__dict__.update(extra)
    return rec


# -- JSON --------------------------------------------------------------------------------


def test_json_lines_carry_time_level_logger_instance_and_message() -> None:
    with configured("INFO", "json", "inst-1") as out:
        logging.getLogger("service.hub").info("game %s has %d sockets", "ABCDEF", 3)
        logging.getLogger("service.ws").warning("second")
    lines = out.getvalue().splitlines()
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    assert TS.fullmatch(first.pop("ts"))
    assert first == {"level": "info", "logger": "service.hub", "instance": "inst-1", "msg": "game ABCDEF has 3 sockets"}
    assert (second["level"], second["logger"], second["msg"]) == ("warning", "service.ws", "second")


def test_json_lines_add_game_and_client_ids_only_when_given() -> None:
    with configured("INFO", "json", "inst-1") as out:
        log = logging.getLogger("service.ws")
        log.info("joined", extra={"gameId": "ABCDEF", "clientId": "client_x"})
        log.info("game only", extra={"gameId": "ABCDEF"})
        log.info("none", extra={"other": "ignored"})
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [(m.get("gameId"), m.get("clientId")) for m in lines] == [
        ("ABCDEF", "client_x"),
        ("ABCDEF", None),
        (None, None),
    ]
    assert set(lines[0]) == {"ts", "level", "logger", "instance", "msg", "gameId", "clientId"}
    assert set(lines[2]) == {"ts", "level", "logger", "instance", "msg"}


def test_a_multi_line_message_and_its_traceback_stay_on_one_json_line() -> None:
    with configured("INFO", "json", "inst-1") as out:
        try:
            raise ValueError("boom")
        except ValueError:
            logging.getLogger("service.ws").exception("handler failed\nsecond line")
    [line] = out.getvalue().splitlines()
    obj = json.loads(line)
    assert (obj["level"], obj["msg"]) == ("error", "handler failed\nsecond line")
    assert obj["exc"].startswith("Traceback (most recent call last):")
    assert obj["exc"].endswith("ValueError: boom")


def test_the_json_timestamp_is_the_records_creation_time_in_utc_with_milliseconds() -> None:
    rec = record("x")
    rec.created, rec.msecs = 1_700_000_000.123, 123.0
    obj = json.loads(JsonFormatter("inst-9").format(rec))
    assert obj == {
        "ts": "2023-11-14T22:13:20.123Z",
        "level": "info",
        "logger": "service.test",
        "instance": "inst-9",
        "msg": "x",
    }


def test_json_ids_may_be_any_json_value() -> None:
    obj = json.loads(JsonFormatter("i").format(record("x", gameId="ABCDEF", clientId=None)))
    assert obj["gameId"] == "ABCDEF"
    assert "clientId" not in obj


def test_lines_written_while_handling_a_frame_carry_the_sockets_ids_from_context() -> None:
    with configured("INFO", "json", "inst-1") as out:
        client_token, game_token = CLIENT_ID.set("client_abc"), GAME_ID.set("QWERTY")
        try:
            logging.getLogger("service.ws").warning("handler failed")
            # an explicit id wins over the context
            logging.getLogger("service.ws").warning("other game", extra={"gameId": "ZZZZZZ"})
        finally:
            CLIENT_ID.reset(client_token)
            GAME_ID.reset(game_token)
        logging.getLogger("service.ws").warning("outside")
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [(m.get("clientId"), m.get("gameId")) for m in lines] == [
        ("client_abc", "QWERTY"),
        ("client_abc", "ZZZZZZ"),
        (None, None),
    ]


# -- text --------------------------------------------------------------------------------


def test_text_lines_are_human_readable_with_time_level_instance_logger_and_message() -> None:
    with configured("INFO", "text", "inst-1") as out:
        logging.getLogger("service.hub").warning("pub/sub connection lost (%s)", "ConnectionError")
    [line] = out.getvalue().splitlines()
    stamp, rest = line[:23], line[24:]
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}", stamp), line
    assert rest == "WARNING [inst-1] service.hub: pub/sub connection lost (ConnectionError)"


def test_text_lines_end_with_the_context_ids_when_there_are_any() -> None:
    with configured("INFO", "text", "inst-1") as out:
        token = GAME_ID.set("QWERTY")
        try:
            logging.getLogger("service.ws").info("bound")
        finally:
            GAME_ID.reset(token)
    [line] = out.getvalue().splitlines()
    assert line.endswith("INFO [inst-1] service.ws: bound (gameId=QWERTY)")


# -- levels ------------------------------------------------------------------------------


def test_the_level_filters_lower_records_and_access_lines_are_silenced() -> None:
    with configured("WARNING", "json", "inst-1") as out:
        assert logging.getLogger().level == logging.WARNING
        assert logging.getLogger("aiohttp.access").level == logging.WARNING
        logging.getLogger("service.hub").info("hidden")
        logging.getLogger("aiohttp.access").info("GET / 200")
        logging.getLogger("service.hub").error("shown")
    assert [json.loads(line)["msg"] for line in out.getvalue().splitlines()] == ["shown"]


def test_configure_replaces_the_root_handlers_with_one_stderr_handler() -> None:
    root = logging.getLogger()
    access = logging.getLogger("aiohttp.access")
    saved = root.handlers[:], root.level, access.level
    extra = logging.NullHandler()
    root.addHandler(extra)
    try:
        configure("DEBUG", "text", "inst-1")
        [handler] = root.handlers
        assert type(handler) is logging.StreamHandler
        assert handler.stream is sys.stderr
        assert root.level == logging.DEBUG
    finally:
        root.handlers[:], root.level = saved[0], saved[1]
        access.setLevel(saved[2])
