"""stack/monitoring: the alerting rules pass `promtool check` and their own unit tests, every
alert has a unit test that fires it and a runbook, and every query of the rules and of the
Grafana dashboard names only metrics a running instance's /metrics exposes."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest_asyncio
from aiohttp.test_utils import TestServer
from prometheus_client.parser import text_string_to_metric_families

from service.app import create_app
from service.settings import Settings
from stack.presets import UNLIMITED

ROOT = Path(__file__).resolve().parents[2]
MONITORING = ROOT / "stack" / "monitoring"
RULES = MONITORING / "alerts.yml"
RUNBOOKS = ROOT / "docs" / "runbooks.md"
METRIC = re.compile(r"\b(tapotarp_[a-z0-9_]+)\b")
#: the series name a family of each type exposes, by suffix
SUFFIXES = {
    "counter": ("_total",),
    "histogram": ("_bucket", "_count", "_sum"),
    "gauge": ("",),
    "summary": ("_count", "_sum", ""),
}


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("promtool")
    assert exe is not None, "promtool not found: `apt-get install prometheus` (make test installs it)"
    return subprocess.run([exe, *args], capture_output=True, text=True, timeout=60, cwd=MONITORING)


def alert_names() -> list[str]:
    return re.findall(r"^\s*- alert: (\w+)$", RULES.read_text(), re.MULTILINE)


def test_the_rules_are_valid_and_their_unit_tests_pass() -> None:
    checked = promtool("check", "rules", "alerts.yml")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"SUCCESS: {len(alert_names())} rules found" in checked.stdout
    tested = promtool("test", "rules", "alerts_test.yml")
    assert tested.returncode == 0, tested.stdout + tested.stderr


def test_every_alert_is_fired_by_a_unit_test_and_has_a_runbook() -> None:
    names = alert_names()
    assert len(names) == len(set(names)) >= 8
    tests = (MONITORING / "alerts_test.yml").read_text()
    runbooks = RUNBOOKS.read_text()
    for name in names:
        # a case that expects it to fire (exp_alerts with labels), not only one where it is quiet
        fired = re.search(rf"alertname: {name}\n\s+exp_alerts:\n\s+- exp_labels", tests)
        assert fired, f"{name}: no unit test fires it"
        assert f"\n## {name}\n" in runbooks, f"{name}: no runbook section in docs/runbooks.md"
        assert f"runbook: docs/runbooks.md#{name.lower()}" in RULES.read_text(), f"{name}: no runbook link"
        section = runbooks.split(f"\n## {name}\n", 1)[1].split("\n## ", 1)[0]
        for part in ("**Means:**", "**Confirm:**", "**Do:**"):
            assert part in section, f"{name}: the runbook lacks {part}"


@pytest_asyncio.fixture
async def exposed(aiohttp_server: Any, redis_url: str) -> AsyncIterator[set[str]]:
    """The series names a running instance's /metrics exposes (every family, with or without
    samples yet), by the families' declared types."""
    server: TestServer = await aiohttp_server(create_app(Settings(redis_url=redis_url, **UNLIMITED)))
    async with aiohttp.ClientSession() as http, http.get(server.make_url("/metrics")) as resp:
        text = await resp.text()
    names = set()
    for family in text_string_to_metric_families(text):
        names |= {family.name + suffix for suffix in SUFFIXES.get(family.type, ("",))}
        names |= {s.name for s in family.samples}
    yield names


def queries() -> dict[str, list[str]]:
    dashboard = json.loads((MONITORING / "dashboard.json").read_text())
    exprs = [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    rules = re.findall(r"^\s*expr: (.+)$", RULES.read_text(), re.MULTILINE)
    return {"dashboard.json": exprs, "alerts.yml": rules}


async def test_every_query_uses_only_metrics_an_instance_exposes(exposed: set[str]) -> None:
    found = {where: [m for q in qs for m in METRIC.findall(q)] for where, qs in queries().items()}
    assert len(found["dashboard.json"]) >= 15 and len(found["alerts.yml"]) >= 9
    for where, names in found.items():
        unknown = sorted(set(names) - exposed)
        assert not unknown, f"{where} queries metrics /metrics does not expose: {unknown}"


async def test_the_check_would_catch_a_misspelt_metric(exposed: set[str]) -> None:
    # the same comparison as above, on a query with one letter wrong
    assert set(METRIC.findall("rate(tapotarp_errors_totl[1m])")) - exposed == {"tapotarp_errors_totl"}
    assert "tapotarp_errors_total" in exposed and "tapotarp_deadline_lag_seconds_bucket" in exposed
