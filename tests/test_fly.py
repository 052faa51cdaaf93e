"""fly.toml and the Dockerfile agree with the service they deploy.

Nothing here reaches Fly: the files are read as Fly would read them, and every setting in
[env] is put through Settings.from_env, so a deploy cannot fail on a value the service
refuses, and the timing rules of a graceful drain hold.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from service.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def fly() -> dict[str, Any]:
    return tomllib.loads((ROOT / "fly.toml").read_text())


@pytest.fixture(scope="module")
def settings(fly: dict[str, Any]) -> Settings:
    return Settings.from_env(fly["env"])


def test_every_env_value_is_one_the_service_accepts(settings: Settings) -> None:
    assert settings.port == 8080
    assert settings.client_ip_header == "Fly-Client-IP"
    assert settings.log_format == "json"


def test_the_machine_is_killed_only_after_the_notice_and_the_drain_have_run(
    fly: dict[str, Any], settings: Settings
) -> None:
    assert fly["kill_signal"] == "SIGTERM"
    assert settings.drain_notice_s > 0
    assert fly["kill_timeout"] > settings.drain_notice_s + settings.drain_timeout_s


def test_the_proxy_routes_only_to_ready_machines_and_sees_a_drain_within_the_notice(
    fly: dict[str, Any], settings: Settings
) -> None:
    svc = fly["http_service"]
    assert svc["internal_port"] == settings.port
    (check,) = svc["checks"]
    assert (check["method"], check["path"]) == ("GET", "/ready")
    interval_s = int(check["interval"].removesuffix("s"))
    # one failed check takes the machine out before its listener closes
    assert interval_s < settings.drain_notice_s


def test_several_machines_run_and_connections_are_capped_per_machine(fly: dict[str, Any]) -> None:
    svc = fly["http_service"]
    assert svc["min_machines_running"] >= 2
    assert svc["auto_stop_machines"] == "off"
    limits = svc["concurrency"]
    assert limits["type"] == "connections"
    assert 0 < limits["soft_limit"] < limits["hard_limit"]


def test_redis_comes_from_a_secret_never_from_the_file(fly: dict[str, Any]) -> None:
    assert not {"REDIS_URL", "REDIS_PASSWORD", "REDIS_SENTINEL_PASSWORD", "METRICS_TOKEN"} & set(fly["env"])
    assert "fly secrets set REDIS_URL=" in (ROOT / "fly.toml").read_text()


def test_metrics_are_served_on_the_port_fly_scrapes(fly: dict[str, Any], settings: Settings) -> None:
    assert fly["metrics"] == {"port": settings.metrics_port, "path": "/metrics"}


def test_the_image_runs_the_service_with_its_scripts_as_a_non_root_user(fly: dict[str, Any]) -> None:
    docker = (ROOT / fly["build"]["dockerfile"]).read_text()
    assert re.search(r"^COPY service \./service$", docker, re.M)
    assert re.search(r"^COPY lua \./lua$", docker, re.M)
    assert re.search(r"^USER (?!root)\w+", docker, re.M)
    assert re.search(r"^STOPSIGNAL SIGTERM$", docker, re.M)
    assert f"EXPOSE {fly['http_service']['internal_port']}" in docker
    assert 'CMD ["python", "-m", "service"' in docker
