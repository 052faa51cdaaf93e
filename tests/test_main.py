"""`python -m service` as a real process: SIGTERM drain and its notice (DRAIN_NOTICE_S), start-up
refusal on an evicting Redis, /metrics on its own port and behind a bearer token, and JSON logs.

Every test starts its own service process (stack/instance.py) on a redis-server of this
module or of its own, and kills whatever it started, even when it fails.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families
from redis.asyncio import Redis

from service import keys
from service.__main__ import install_gc_policy, run
from service.gcpolicy import PAUSES
from service.messages import IDENTITY_ACTIONS
from service.settings import Settings
from service.ws import SHUTDOWN_MESSAGE
from stack.client import Client
from stack.instance import ServiceProcess, free_port
from stack.redis_server import RedisProcess
from tests.support.instances import Clients, action_id, actor_of, claim, clients, create_game, game_log, game_state, ok

pytestmark = pytest.mark.slow

DRAIN_TIMEOUT_S = 5.0
#: an action named as the game log names it: (actor, message type, requestId)
Action = tuple[str, str, str]


@pytest.fixture(scope="module")
def redis_server() -> Iterator[RedisProcess]:
    with RedisProcess() as proc:
        yield proc


@contextlib.contextmanager
def started(*procs: ServiceProcess) -> Iterator[tuple[ServiceProcess, ...]]:
    """Start every process in parallel and wait until each is ready; SIGKILL them all at exit."""
    try:
        with ThreadPoolExecutor(max_workers=len(procs)) as pool:
            for fut in [pool.submit(p.start) for p in procs]:
                fut.result()
        yield procs
    finally:
        for p in procs:
            p.kill()


async def fetch(url: str, headers: dict[str, str] | None = None) -> tuple[int, str, dict[str, str]]:
    """GET on a fresh connection: (status, body, headers), or status 0 when nothing answers."""
    try:
        async with (
            aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(force_close=True), timeout=aiohttp.ClientTimeout(total=2)
            ) as session,
            session.get(url, headers=headers) as resp,
        ):
            return resp.status, await resp.text(), dict(resp.headers)
    except (aiohttp.ClientError, TimeoutError):
        return 0, "", {}


def actor(client: Client, mtype: str) -> str:
    """Who the service takes this action to come from (service/ws.py Session.action_id)."""
    return client.client_id if mtype in IDENTITY_ACTIONS else actor_of(client)


# -- SIGTERM -------------------------------------------------------------------------------


async def test_sigterm_mid_game_refuses_new_work_warns_closes_1012_exits_0_and_loses_no_acknowledged_action(
    redis_server: RedisProcess, r: Redis, tmp_path: Path
) -> None:
    svc = ServiceProcess(redis_server.url, tmp_path, "drain", DRAIN_TIMEOUT_S=str(DRAIN_TIMEOUT_S))
    acked: list[Action] = []

    async def act(c: Client, mtype: str, data: dict[str, Any] | None = None) -> dict[str, Any] | None:
        """Send one action; on a `state` reply it counts as acknowledged. None once the socket is gone."""
        who = actor(c, mtype)
        try:
            rid = await c.send(mtype, data)
            reply = await c.wait_for(lambda m: m.get("requestId") == rid and m["type"] in ("state", "error"), 5)
        except (ConnectionError, aiohttp.ClientError, TimeoutError):
            return None
        assert reply["type"] == "state", f"{mtype} {data}: {reply}"
        acked.append((who, mtype, rid))
        state: dict[str, Any] = reply["data"]
        return state

    with started(svc):
        assert svc.proc is not None
        async with clients() as pool:
            host, player, spectator, idle = [await pool.connect(svc.ws_url) for _ in range(4)]
            gid, _, _ = await create_game(host, playerCount=2)
            await claim(host, gid, 1, join=False)
            await claim(player, gid, 2)
            await ok(spectator, "join", {"gameId": gid})
            first = await act(host, "start")
            assert first is not None and first["status"] == "running"
            seat = {1: host, 2: player}

            async def drive(state: dict[str, Any]) -> None:
                """The active player passes the turn, and every third action sets a life total,
                until the server closes the sockets."""
                i = 0
                while True:
                    i += 1
                    active = state["activePlayer"]
                    if i % 3 == 0:
                        # a life above 0 (at or below 0 it would eliminate the player and end the game)
                        nxt = await act(seat[active], "updatePlayer", {"playerId": active, "life": 40 - i % 30})
                    else:
                        nxt = await act(seat[active], "passTurn")
                    if nxt is None:
                        return
                    state = nxt

            driver = asyncio.create_task(drive(first))
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 10
            while len(acked) < 25:
                assert not driver.done(), driver
                assert loop.time() < deadline, f"only {len(acked)} actions acknowledged in 10 s"
                await asyncio.sleep(0.005)

            t0 = time.monotonic()
            svc.proc.send_signal(signal.SIGTERM)
            # readiness goes at once: /ready answers 503, or the listener is already closed
            probes: list[int] = []
            while not probes or probes[-1] == 200:
                assert time.monotonic() - t0 < 1.0, f"/ready still answers 200 one second after SIGTERM: {probes}"
                probes.append((await fetch(svc.url + "/ready"))[0])
            flipped_after = time.monotonic() - t0
            assert probes[-1] in (503, 0), probes
            # and a new upgrade is refused: 503 from the instance, or no listener at all
            with pytest.raises((aiohttp.WSServerHandshakeError, aiohttp.ClientConnectionError)) as refused:
                await Client.connect(svc.ws_url)
            if isinstance(refused.value, aiohttp.WSServerHandshakeError):
                assert refused.value.status == 503

            async def keep_probing() -> None:
                """Readiness never comes back while the process drains."""
                while svc.proc is not None and svc.proc.poll() is None:
                    probes.append((await fetch(svc.url + "/ready"))[0])
                    await asyncio.sleep(0.01)

            prober = asyncio.create_task(keep_probing())
            everyone = {"host": host, "player": player, "spectator": spectator, "idle": idle}
            codes = {name: await c.closed_with(DRAIN_TIMEOUT_S + 2) for name, c in everyone.items()}
            await asyncio.wait_for(driver, 5)
            code = await asyncio.to_thread(svc.proc.wait, DRAIN_TIMEOUT_S + 5)
            exited_after = time.monotonic() - t0
            await asyncio.wait_for(prober, 5)

    assert codes == dict.fromkeys(everyone, 1012)
    timeout_ms = int(DRAIN_TIMEOUT_S * 1000)
    warning = {"type": "shutdown_warning", "data": {"message": SHUTDOWN_MESSAGE, "timeout": timeout_ms}}
    for name, c in everyone.items():
        kinds = [m["type"] for m in c.messages]
        assert kinds.count("shutdown_warning") == 1, (name, kinds[-5:])
        # (replies to actions already in flight may still follow it, until the close)
        assert c.messages[kinds.index("shutdown_warning")] == warning, name
    assert code == 0, svc.log_path.read_text()
    assert flipped_after < 1.0
    first_down = next(i for i, status in enumerate(probes) if status != 200)
    assert set(probes[first_down:]) <= {503, 0}, probes
    # well within DRAIN_TIMEOUT_S: every client answered the close at once
    assert exited_after < DRAIN_TIMEOUT_S / 2, f"exited {exited_after:.2f}s after SIGTERM"

    # nothing acknowledged is lost: every acknowledged action is in the game log exactly once
    log = await game_log(r, gid)
    state = await game_state(r, gid)
    assert [e["v"] for e in log] == list(range(1, state["version"] + 1))
    counts = Counter(e["a"] for e in log)
    assert len(acked) >= 25
    assert [a for a in acked if counts[action_id(*a)] != 1] == []
    # what the log holds besides: the set-up, the seats the closed sockets gave up, and at
    # most the one action in flight when the sockets closed
    acked_ids = {action_id(*a) for a in acked}
    others = Counter(e["t"] for e in log if e["a"] not in acked_ids)
    in_flight = sum(n for t, n in others.items() if t in ("switch", "updatePlayer"))
    assert in_flight <= 1, others
    assert others - Counter({"switch": 1, "updatePlayer": 1}) == Counter({"create": 1, "claim": 2, "disconnect": 2})
    # the closed sockets gave their seats up and kept their tokens for a reconnect elsewhere
    assert [p["claimedBy"] for p in state["players"]] == [None, None]
    assert {"tok:1", "tok:2"} <= set(await r.hgetall(keys.game(gid)))


# -- drain notice (DRAIN_NOTICE_S) ---------------------------------------------------------


async def test_during_the_drain_notice_the_listener_answers_503_to_checks_and_upgrades_and_clients_stay_served(
    redis_server: RedisProcess, tmp_path: Path
) -> None:
    notice = 2.0
    svc = ServiceProcess(redis_server.url, tmp_path, "notice", DRAIN_NOTICE_S=str(notice), DRAIN_TIMEOUT_S="2")
    with started(svc):
        assert svc.proc is not None
        pool: Clients
        async with clients() as pool:
            player = await pool.connect(svc.ws_url)
            t0 = time.monotonic()
            svc.proc.send_signal(signal.SIGTERM)
            # readiness goes at once, answered by the listener that is still open
            while (status := (await fetch(svc.url + "/ready"))[0]) == 200:
                assert time.monotonic() - t0 < 1.0, "/ready still 200 one second after SIGTERM"
            assert status == 503
            # a new upgrade gets a 503 answer (not a refused connection: the listener is open)
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await Client.connect(svc.ws_url)
            assert refused.value.status == 503
            status, body, _ = await fetch(svc.url + "/health")
            assert (status, json.loads(body)["status"]) == (200, "shutting_down")
            # and a client already connected is still served
            assert (await player.request("time", {"clientTime": 1}))["type"] == "time"
            assert player.closed_code is None
            # then the usual drain
            assert await player.closed_with(notice + 5) == 1012
            closed_after = time.monotonic() - t0
            code = await asyncio.to_thread(svc.proc.wait, 10)
    assert code == 0, svc.log_path.read_text()
    assert closed_after >= notice
    assert [m["type"] for m in player.messages][-1] == "shutdown_warning"


async def test_a_second_signal_cuts_the_drain_notice_short(redis_server: RedisProcess, tmp_path: Path) -> None:
    svc = ServiceProcess(redis_server.url, tmp_path, "hurry", DRAIN_NOTICE_S="60", DRAIN_TIMEOUT_S="2")
    with started(svc):
        assert svc.proc is not None
        pool: Clients
        async with clients() as pool:
            player = await pool.connect(svc.ws_url)
            svc.proc.send_signal(signal.SIGTERM)
            await wait_for_status(svc.url + "/ready", 503)
            t0 = time.monotonic()
            svc.proc.send_signal(signal.SIGINT)
            assert await player.closed_with(5) == 1012
            code = await asyncio.to_thread(svc.proc.wait, 10)
    assert code == 0, svc.log_path.read_text()
    assert time.monotonic() - t0 < 5


def test_a_bad_drain_notice_stops_start_up_with_code_2() -> None:
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    result = subprocess.run(
        [sys.executable, "-m", "service"],
        env={**env, "DRAIN_NOTICE_S": "-1"},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert result.stderr == "configuration error: DRAIN_NOTICE_S='-1' is out of range [0.0, 600.0]\n"


def run_service(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`python -m service` to its end, with the embedded engine unless REDIS_URL is given."""
    base = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    return subprocess.run(
        [sys.executable, "-m", "service", *args],
        env={**base, "HOST": "127.0.0.1", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def refusals(output: str) -> list[str]:
    """The messages of the ERROR lines in a text log."""
    return [m.group(1) for line in output.splitlines() if (m := re.search(r" ERROR \[[^]]*\] [\w.]+: (.*)", line))]


@pytest.mark.parametrize("variable", ["PORT", "METRICS_PORT"])
def test_a_port_in_use_stops_start_up_with_one_line_naming_it_and_code_2(variable: str, tmp_path: Path) -> None:
    with started(ServiceProcess("", tmp_path, "holder")) as (holder,):
        env = {"PORT": str(free_port()), variable: str(holder.port)}
        result = run_service(**env)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    assert refusals(result.stderr) == [
        f"refusing to start: {variable} {holder.port} is already in use on 127.0.0.1: stop the process listening "
        f"there, or set {variable} to a free port"
    ], result.stderr
    assert "refusing to start" in result.stderr.splitlines()[-1]


@pytest.mark.parametrize("mode", [(), ("--port-per-worker",)], ids=["shared-port", "port-per-worker"])
def test_a_port_in_use_stops_the_workers_and_the_supervisor_with_code_2(
    mode: tuple[str, ...], redis_server: RedisProcess, tmp_path: Path
) -> None:
    """Worker 0 cannot bind PORT (with SO_REUSEPORT, or alone): it says so in one line and exits 2,
    and the supervisor stops the other worker and exits with that code."""
    with started(ServiceProcess("", tmp_path, "holder")) as (holder,):
        result = run_service("--workers", "2", *mode, PORT=str(holder.port), REDIS_URL=redis_server.url)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    lines = refusals(result.stderr)
    refused = f"refusing to start: PORT {holder.port} is already in use on 127.0.0.1: stop the process"
    assert any(refused in line for line in lines), result.stderr
    # with a port per worker, worker 1's PORT+1 may be taken meanwhile by another test on this
    # machine (CI saw it): then it is the one whose exit stops the others
    first = "0" if not mode else "[01]"
    assert re.search(rf"worker {first} exited with 2 while starting; stopping the others", lines[-1]), result.stderr


async def wait_for_status(url: str, status: int, timeout: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while (got := (await fetch(url))[0]) != status:
        assert loop.time() < end, f"{url} answered {got}, not {status}"
        await asyncio.sleep(0.01)


# -- start-up ------------------------------------------------------------------------------


async def test_an_evicting_maxmemory_policy_stops_start_up_with_code_2_unless_allowed(tmp_path: Path) -> None:
    with RedisProcess("--maxmemory-policy", "allkeys-lru") as evicting:
        refused = ServiceProcess(evicting.url, tmp_path, "evict")
        allowed = ServiceProcess(evicting.url, tmp_path, "allowed", ALLOW_EVICTING_POLICY="1")
        try:
            with ThreadPoolExecutor(max_workers=2) as pool:
                refusing, allowing = pool.submit(refused.start), pool.submit(allowed.start)
                allowing.result()
                with pytest.raises(RuntimeError, match="exited with 2"):
                    refusing.result()
            assert refused.proc is not None
            assert refused.proc.returncode == 2
            status, body, _ = await fetch(allowed.url + "/ready")
        finally:
            refused.kill()
            allowed.kill()
    # the refusing process says why, and how to start anyway, in its last line; no traceback
    text = refused.log_path.read_text()
    last = text.strip().splitlines()[-1]
    assert "refusing to start" in last, text
    assert "allkeys-lru" in last and "ALLOW_EVICTING_POLICY=1" in last, last
    assert "Traceback" not in text, text
    # the allowed one starts, and reports the policy
    ready = json.loads(body)
    assert status == 200, body
    assert (ready["ready"], ready["draining"], ready["instanceId"]) == (True, False, "allowed")
    assert ready["redis"]["reachable"] is True
    assert ready["redis"]["maxmemoryPolicy"] == "allkeys-lru"


# -- /metrics ------------------------------------------------------------------------------


async def test_metrics_port_serves_metrics_alone_and_the_token_guards_it_on_either_port(
    redis_server: RedisProcess, tmp_path: Path
) -> None:
    token = "s3cret-metrics-token"
    own_port = ServiceProcess(redis_server.url, tmp_path, "mport", METRICS_PORT=str(free_port()))
    both = ServiceProcess(redis_server.url, tmp_path, "mboth", METRICS_PORT=str(free_port()), METRICS_TOKEN=token)
    main_port = ServiceProcess(redis_server.url, tmp_path, "mtoken", METRICS_TOKEN=token)
    bearer = {"Authorization": f"Bearer {token}"}

    def metrics_url(svc: ServiceProcess) -> str:
        port = int(svc.env.get("METRICS_PORT", "0")) or svc.port
        return f"http://127.0.0.1:{port}/metrics"

    with started(own_port, both, main_port):
        # METRICS_PORT: served there, open without a token, and nowhere on the main port
        status, text, headers = await fetch(metrics_url(own_port))
        assert status == 200
        assert headers["Content-Type"].startswith("text/plain; version=0.0.4")
        names = {f.name for f in text_string_to_metric_families(text)}
        assert {"tapotarp_websocket_connections_total", "tapotarp_websocket_messages_received"} <= names
        assert (await fetch(own_port.url + "/metrics"))[0] == 404
        assert (await fetch(own_port.url + "/health"))[0] == 200
        # the metrics port serves /metrics and nothing else
        assert (await fetch(metrics_url(own_port).replace("/metrics", "/health")))[0] == 404

        # METRICS_TOKEN, on the metrics port and on the main port alike
        for svc in (both, main_port):
            status, _, headers = await fetch(metrics_url(svc))
            assert (status, headers.get("WWW-Authenticate")) == (401, "Bearer"), svc.name
            assert (await fetch(metrics_url(svc), {"Authorization": "Bearer wrong"}))[0] == 401, svc.name
            assert (await fetch(metrics_url(svc), {"Authorization": token}))[0] == 401, svc.name
            status, text, _ = await fetch(metrics_url(svc), bearer)
            assert status == 200, svc.name
            assert "tapotarp_ready 1.0" in text.splitlines(), svc.name
        assert (await fetch(both.url + "/metrics", bearer))[0] == 404


# -- logs ----------------------------------------------------------------------------------


async def test_json_logs_are_one_object_per_line_name_the_client_and_never_contain_a_token(tmp_path: Path) -> None:
    with RedisProcess() as redis:
        # a shared create limit, so that every `create` consults Redis (and logs when it cannot)
        svc = ServiceProcess(
            redis.url, tmp_path, "jsonlog", LOG_FORMAT="json", LOG_LEVEL="DEBUG", RATE_LIMIT_GAMES_PER_HOUR="1000"
        )
        with started(svc):
            pool: Clients
            async with clients() as pool:
                host, player, back = [await pool.connect(svc.ws_url) for _ in range(3)]
                gid, host_token, _ = await create_game(host, playerCount=2)
                tokens = [host_token, await claim(host, gid, 1, join=False), await claim(player, gid, 2)]
                await ok(host, "start")
                # tokens also travel from client to server: a reconnect with both, one with a bad token
                rid = await back.send("reconnect", {"gameId": gid, "playerId": 1, "token": tokens[1]})
                assert (await back.reply(rid))["type"] == "reconnected"
                bad = await back.request("reconnect", {"gameId": gid, "hostToken": tokens[2]})
                assert bad["data"] == {"message": "Invalid host token", "code": "INVALID_HOST_TOKEN"}

                # Redis goes away: the next create's rate check fails open and logs it
                redis.stop()
                before = len(svc.log_path.read_text().splitlines())
                answer = await player.request("create", {"settings": {}}, timeout=10)
                assert answer["data"]["code"] == "STORAGE_UNAVAILABLE", answer
                loop = asyncio.get_running_loop()
                end = loop.time() + 5
                while True:
                    later = [json.loads(x) for x in svc.log_path.read_text().splitlines()[before:]]
                    mine = [m for m in later if m.get("clientId") == player.client_id]
                    if mine:
                        break
                    assert loop.time() < end, f"no log line names {player.client_id}: {later}"
                    await asyncio.sleep(0.02)
                redis.start()
            assert svc.terminate() == 0

    lines = svc.log_path.read_text().splitlines()
    records = []
    for line in lines:
        try:
            records.append(json.loads(line))
        except ValueError:
            pytest.fail(f"not a JSON log line: {line!r}")
    assert all(isinstance(m, dict) and m.get("instance") == "jsonlog" for m in records), records
    limiter = [m for m in mine if m["logger"] == "service.limits"]
    assert [m["level"] for m in limiter] == ["warning"], mine
    assert "letting traffic through" in limiter[0]["msg"]
    # client ids in the log are ids of our sockets, never anything else
    ids = {m["clientId"] for m in records if "clientId" in m}
    assert ids <= {host.client_id, player.client_id, back.client_id}, ids
    text = "\n".join(lines)
    leaked = [i for i, t in enumerate(tokens) if t in text]
    assert leaked == [], f"tokens {leaked} (0 = host token) appear in the log"


def test_the_service_runs_on_uvloop_when_it_is_installed() -> None:
    seen: list[str] = []

    async def probe() -> None:
        seen.append(type(asyncio.get_running_loop()).__module__)

    run(probe())
    assert seen == ["uvloop"]


# -- outages -------------------------------------------------------------------------------

#: loggers of the Redis watcher and the background loops; the pub/sub listener (service.channels)
#: tells its own outage, and the limiter logs only when a rate-limited event (an upgrade, a create) arrives
LOOP_LOGGERS = ("service.app", "service.periodic", "service.liveness", "service.deadlines", "service.hub")


def log_records(svc: ServiceProcess) -> list[dict[str, Any]]:
    return [json.loads(line) for line in svc.log_path.read_text().splitlines()]


async def wait_for_record(svc: ServiceProcess, words: str, timeout: float) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while True:
        found = [m for m in log_records(svc) if m["logger"] == "service.app" and words in m["msg"]]
        if found:
            return found[0]
        assert loop.time() < end, f"no line with {words!r}: {svc.log_path.read_text()}"
        await asyncio.sleep(0.05)


async def test_a_redis_outage_logs_one_warning_and_one_info_and_no_traceback(tmp_path: Path) -> None:
    # an AOF written at each command: the restarted server still knows this instance and its game
    with RedisProcess("--appendonly", "yes", "--appendfsync", "always") as redis:
        # short intervals, so that every loop meets the outage several times within a few seconds
        svc = ServiceProcess(
            redis.url,
            tmp_path,
            "outage",
            LOG_FORMAT="json",
            LOG_LEVEL="DEBUG",
            INSTANCE_DEAD_AFTER_S="1",
            CACHE_TTL_S="1",
            DEADLINE_POLL_MS="50",
        )
        with started(svc):
            async with clients() as pool:
                # a game served here, so that the hub has a snapshot to refresh during the outage
                host = await pool.connect(svc.ws_url)
                await create_game(host, playerCount=2)
                before = len(log_records(svc))
                redis.kill()
                await wait_for_record(svc, "unreachable", 10)
                await asyncio.sleep(3)
                redis.start()
                back = await wait_for_record(svc, "back after", 10)
                await wait_for_status(svc.url + "/ready", 200)
                # the loops run again on their own
                await asyncio.sleep(1.5)
            assert svc.terminate() == 0

    records = log_records(svc)[before:]
    text = svc.log_path.read_text()
    assert "Traceback" not in text and not [m for m in records if "exc" in m], text
    loud = [
        (m["level"], m["logger"], m["msg"]) for m in records if m["level"] != "debug" and m["logger"] in LOOP_LOGGERS
    ]
    warned = [m for m in loud if m[0] != "info"]
    assert len(warned) == 1 and warned[0][:2] == ("warning", "service.app"), loud
    assert "redis unreachable (ConnectionError" in warned[0][2], warned
    assert [m for m in loud if m[0] == "info" and m[1] == "service.app"] == [("info", "service.app", back["msg"])]
    away = float(back["msg"].split("back after ")[1].split("s")[0])
    assert 3 <= away < 15, back
    # the loops did meet the outage, and said so at DEBUG
    quiet = {
        m["msg"].split(" failed")[0] for m in records if m["level"] == "debug" and m["logger"] == "service.periodic"
    }
    assert {"liveness", "deadlines"} <= quiet, quiet


@pytest.mark.parametrize(("env", "installed"), [({}, True), ({"GC_FREEZE": "1"}, True), ({"GC_FREEZE": "0"}, False)])
def test_the_gc_freeze_policy_is_installed_unless_gc_freeze_is_off(env: dict[str, str], installed: bool) -> None:
    threshold = gc.get_threshold()
    PAUSES.install()  # once per process, whatever the policy
    before = list(gc.callbacks)
    policy = install_gc_policy(Settings.from_env(env))
    try:
        assert (policy is not None) == installed
        assert len(gc.callbacks) == len(before) + installed
        assert PAUSES.installed and gc.callbacks.count(PAUSES._on_gc) == 1
    finally:
        if policy is not None:
            policy.uninstall()
        gc.set_threshold(*threshold)
    assert gc.callbacks == before


@pytest.mark.parametrize(("env", "young"), [({}, 10_000), ({"GC_YOUNG_THRESHOLD": "700"}, 700)])
def test_the_young_collection_threshold_is_the_setting_and_the_older_ones_stay(env: dict[str, str], young: int) -> None:
    threshold = gc.get_threshold()
    policy = install_gc_policy(Settings.from_env(env))
    try:
        assert gc.get_threshold() == (young, *threshold[1:])
    finally:
        if policy is not None:
            policy.uninstall()
        gc.set_threshold(*threshold)
