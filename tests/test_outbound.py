"""The outbound path: frames encoded once from their objects (JSON text, MessagePack bytes),
and each socket's bounded queue: order, overflow close, the close grace, dropped frames."""

from __future__ import annotations

import asyncio
import json
from typing import Any, cast

import msgpack
import orjson
import pytest
from aiohttp import web

from service import outbound
from service.metrics import Metrics
from service.outbound import Conn, Outgoing, StateFrame, frame, outgoing, state_frame
from tests.support.fakes import FakeSocket, MakeConn, RecordingTransport, StuckClose
from tests.support.waits import eventually, settle


def raw(text: str) -> Outgoing:
    """A frame whose JSON text is `text` as given: byte counts in the queue tests stay exact."""
    return Outgoing({}, text)


# -- frames -------------------------------------------------------------------


def test_frame_is_compact_json_with_type_data_and_optional_request_id() -> None:
    assert frame("time", {"serverTime": 1}) == '{"type":"time","data":{"serverTime":1}}'
    assert frame("error", {"message": "x"}, "r1") == '{"type":"error","data":{"message":"x"},"requestId":"r1"}'


def test_state_frame_wraps_the_state_json_unchanged() -> None:
    state_json = '{"version":3,"serverTime":17,"players":{}}'
    text = state_frame(state_json)
    assert text == '{"type":"state","data":' + state_json + "}"
    assert json.loads(text) == {"type": "state", "data": {"version": 3, "serverTime": 17, "players": {}}}


@pytest.mark.parametrize("rid", ["r1", 'quote"and\\backslash', "ünï\u2028", "x" * 64])
def test_state_frame_with_a_request_id_is_valid_json(rid: str) -> None:
    state_json = '{"version":1,"name":"a\\/b"}'
    assert json.loads(state_frame(state_json, rid)) == {
        "type": "state",
        "data": {"version": 1, "name": "a/b"},
        "requestId": rid,
    }


def test_a_state_frame_embeds_the_state_json_as_is_and_packs_the_decoded_state() -> None:
    # the JSON carries the script's bytes (its escaping included), never a re-encoding of the object
    state_json = '{"version":2,"name":"a\\/b"}'
    state = json.loads(state_json)
    out = StateFrame(state_json, state, "r1")
    assert out.text == state_frame(state_json, "r1")
    assert msgpack.unpackb(out.packed()) == {"type": "state", "data": state, "requestId": "r1"}
    assert out.packed() is out.packed()


def test_a_state_frame_without_the_decoded_state_decodes_it_only_to_pack_it(monkeypatch: pytest.MonkeyPatch) -> None:
    state_json = '{"version":2,"players":[{"id":1}]}'
    decodes: list[str] = []
    real = orjson.loads

    def counted(text: str) -> Any:
        decodes.append(text)
        return real(text)

    monkeypatch.setattr(orjson, "loads", counted)
    out = StateFrame(state_json, request_id="r2")
    assert out.text == state_frame(state_json, "r2") and decodes == []
    assert msgpack.unpackb(out.packed()) == {"type": "state", "data": json.loads(state_json), "requestId": "r2"}
    out.packed()
    assert decodes == [state_json]


def test_a_frame_for_a_msgpack_socket_is_packed_from_its_object_without_any_json(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_json(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("JSON encoded or parsed for a msgpack frame")

    state = {"version": 3, "status": "waiting"}
    outs = [outgoing("claimed", {"playerId": 1}, "k1"), StateFrame(json.dumps(state), state, "k1")]
    monkeypatch.setattr(json, "dumps", no_json)
    monkeypatch.setattr(json, "loads", no_json)
    packed = [out.packed() for out in outs]
    monkeypatch.undo()
    assert [msgpack.unpackb(p) for p in packed] == [
        {"type": "claimed", "data": {"playerId": 1}, "requestId": "k1"},
        {"type": "state", "data": state, "requestId": "k1"},
    ]


async def test_a_msgpack_conn_writes_binary_frames_and_a_json_conn_text_frames() -> None:
    out = outgoing("tick", {"times": {"1": 5}})
    packed_ws, text_ws = FakeSocket(), FakeSocket()
    conns = [
        Conn(cast(web.WebSocketResponse, packed_ws), "client_p", 1 << 20, binary=True),
        Conn(cast(web.WebSocketResponse, text_ws), "client_t", 1 << 20),
    ]
    try:
        for conn in conns:
            conn.send(out)
        await eventually(lambda: len(packed_ws.binary_frames) == len(text_ws.frames) == 1)
        assert packed_ws.frames == [] and text_ws.binary_frames == []
        assert msgpack.unpackb(packed_ws.binary_frames[0]) == json.loads(text_ws.frames[0]) == out.obj
    finally:
        for conn in conns:
            await conn.close_writer()


# -- Conn --------------------------------------------------------------------------------


async def test_a_conn_writes_its_frames_in_the_order_they_were_sent(make_conn: MakeConn) -> None:
    conn, ws = make_conn()
    outs = [outgoing("tick", {"n": i}) for i in range(50)]
    texts = [frame("tick", {"n": i}) for i in range(50)]
    for out in outs:
        conn.send(out)
    await eventually(lambda: len(ws.frames) == len(texts))
    assert ws.frames == texts
    assert conn.queued_bytes == 0
    assert ws.close_codes == []


async def test_a_reply_without_a_request_id_repeats_no_state_the_socket_already_has(make_conn: MakeConn) -> None:
    conn, ws = make_conn()
    state = {"version": 4}
    state_json = json.dumps(state)
    claimed = outgoing("claimed", {"playerId": 1})
    # the broadcast of version 4 reached the socket first (hub.deliver)
    conn.last_version = 4

    conn.send_reply(state_json, 4, outbound.Ack(None, (claimed,)))
    conn.send_reply(state_json, 4, outbound.Ack("r1"), state)
    conn.send_reply(json.dumps({"version": 5}), 5, outbound.Ack(None))

    # HEAD's and v1's clients send no requestId: a copy would tell them nothing; with one it
    # is the answer to that request
    await eventually(lambda: len(ws.frames) == 3)
    assert [json.loads(f) for f in ws.frames] == [
        {"type": "claimed", "data": {"playerId": 1}},
        {"type": "state", "data": state, "requestId": "r1"},
        {"type": "state", "data": {"version": 5}},
    ]
    assert conn.last_version == 5


async def test_a_conn_over_its_byte_limit_closes_with_1008_and_drops_later_frames_without_waiting(
    make_conn: MakeConn,
) -> None:
    gate = asyncio.Event()
    conn, ws = make_conn(max_queue_bytes=10, gate=gate)
    conn.send(raw("0123456789"))
    # the writer takes the first frame and hangs in the stalled reader's socket
    await eventually(lambda: ws.writing)
    conn.send(raw("aaaa"))
    conn.send(raw("bbbb"))
    conn.send(raw("cc"))
    assert conn.queued_bytes == 10
    conn.send(raw("d"))
    assert conn.overflowed is True
    conn.send(raw("e"))
    assert conn.queued_bytes == 10
    # closed while the writer is still stuck: the close does not wait for the reader
    await eventually(lambda: ws.close_codes == [1008])
    assert ws.writing and ws.frames == []
    assert ws.close_messages == [b"Buffer overflow"]
    gate.set()
    await eventually(lambda: len(ws.frames) == 4)
    await settle()
    assert ws.frames == ["0123456789", "aaaa", "bbbb", "cc"]
    assert ws.close_codes == [1008]


@pytest.mark.parametrize("close_completes", [True, False])
async def test_an_overflowed_conn_is_dropped_whether_or_not_its_close_gets_through(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, close_completes: bool
) -> None:
    monkeypatch.setattr(outbound, "CLOSE_GRACE_S", 0.1)
    ws = FakeSocket() if close_completes else StuckClose()
    transport = RecordingTransport()
    conn = Conn(cast(web.WebSocketResponse, ws), "client_x", 4, transport=cast(asyncio.Transport, transport))
    try:
        conn.send(raw("12345"))
        assert conn.overflowed
        await eventually(lambda: transport.aborted == 1, timeout=2.0)
        assert ws.close_codes == [1008]
        [warning] = [r for r in caplog.records if r.name == "service.outbound"]
        assert (warning.getMessage(), getattr(warning, "clientId", None)) == (
            "closing a socket that stopped reading: 5 bytes unsent",
            "client_x",
        )
    finally:
        await conn.close_writer()


async def test_shutting_a_conn_whose_peer_reads_nothing_returns_within_the_grace(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(outbound, "CLOSE_GRACE_S", 0.1)
    ws, transport = StuckClose(), RecordingTransport()
    conn = Conn(cast(web.WebSocketResponse, ws), "client_x", 1 << 20, transport=cast(asyncio.Transport, transport))
    try:
        async with asyncio.timeout(2.0):
            await conn.shut(1012, b"Server restarting")
        assert (ws.close_codes, transport.aborted) == ([1012], 1)
    finally:
        await conn.close_writer()


class BrokenSocket(FakeSocket):
    """A socket whose peer went away under the writer."""

    async def send_str(self, data: str) -> None:
        raise ConnectionResetError("peer gone")


async def test_a_frame_the_socket_cannot_take_is_counted_as_dropped() -> None:
    metrics = Metrics()
    conn = Conn(cast(web.WebSocketResponse, BrokenSocket()), "client_x", 1 << 20, metrics=metrics)
    try:
        conn.send(raw("hello"))
        await eventually(lambda: metrics.registry.get_sample_value("tapotarp_websocket_messages_dropped_total") == 1)
    finally:
        await conn.close_writer()


async def test_a_conn_sends_nothing_once_its_socket_is_closed(make_conn: MakeConn) -> None:
    conn, ws = make_conn()
    ws.closed = True
    conn.send(raw("late"))
    await settle()
    assert ws.frames == [] and conn.queued_bytes == 0
