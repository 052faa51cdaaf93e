"""Every scenario of `python -m chaos`, in its short form, against real processes: the CLI's
exit status and its verdict line. A scenario passes only if the checker found nothing, and the
run really did something: actions acknowledged, faults injected, deadlines fired (so a run
whose games never started, or whose fault never came, cannot pass)."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from chaos.scenarios import SCENARIOS

pytestmark = pytest.mark.slow

VERDICT = re.compile(r"^(?P<name>[\w\[\]-]+): (?P<result>OK|FAIL) (?P<counts>.*)$", re.MULTILINE)


def counts_of(line: str) -> dict[str, str]:
    return dict(part.split("=", 1) for part in line.split() if "=" in part)


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_the_short_form_of_each_scenario_holds_its_invariants(name: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "chaos", "run", name, "--short"], capture_output=True, text=True, timeout=240
    )
    verdicts = list(VERDICT.finditer(done.stdout))
    assert done.returncode == 0, done.stdout + done.stderr
    assert verdicts, done.stdout
    for v in verdicts:
        assert v["result"] == "OK", done.stdout
        counts = counts_of(v["counts"])
        assert int(counts["faults"]) >= 1, v[0]
        assert int(counts["acked"]) >= 10, v[0]
        # the clock game's two warnings and its timeout, each once
        assert int(counts["deadlines"]) >= 3, v[0]
        assert counts["lost"].split("/")[0] == "0" or "allowed" in counts["lost"], v[0]


def test_list_names_every_scenario_and_an_unknown_one_is_refused() -> None:
    listed = subprocess.run([sys.executable, "-m", "chaos", "list"], capture_output=True, text=True, timeout=30)
    assert listed.returncode == 0
    assert [line.split()[0] for line in listed.stdout.splitlines()] == list(SCENARIOS)
    unknown = subprocess.run(
        [sys.executable, "-m", "chaos", "run", "no-such-fault"], capture_output=True, text=True, timeout=30
    )
    assert unknown.returncode == 2
    assert "unknown scenario(s): no-such-fault" in unknown.stderr
    bounds = subprocess.run(
        [sys.executable, "-m", "chaos", "run", "all", "--players", "9"], capture_output=True, text=True, timeout=30
    )
    assert bounds.returncode == 2
    assert "players 2-8" in bounds.stderr
