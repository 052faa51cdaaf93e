"""A real Prometheus for a scenario: it scrapes the scenario's instances every 500 ms and
evaluates stack/monitoring/alerts.yml, so the scenario can show the alert its fault should
raise firing during the fault and clearing after it.

The rules are the production file with one change: each `for:` is cut to 1 s, because a
scenario's fault lasts seconds where production's hold-downs are minutes. The expressions
are the same ones.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from stack.instance import free_port

RULES = Path(__file__).resolve().parents[1] / "stack" / "monitoring" / "alerts.yml"
INTERVAL = "500ms"


def scenario_rules() -> str:
    return re.sub(r"^(\s+)for: \S+$", r"\1for: 1s", RULES.read_text(), flags=re.MULTILINE)


class PrometheusProcess:
    def __init__(self, targets: list[str]) -> None:
        exe = shutil.which("prometheus")
        if exe is None:
            raise RuntimeError("prometheus not found: `apt-get install prometheus` (or `make prometheus`)")
        self.exe = exe
        self.dir = Path(tempfile.mkdtemp(prefix="chaos-prometheus-"))
        self.port = free_port()
        (self.dir / "alerts.yml").write_text(scenario_rules())
        config = {
            "global": {"scrape_interval": INTERVAL, "evaluation_interval": INTERVAL, "scrape_timeout": INTERVAL},
            "rule_files": [str(self.dir / "alerts.yml")],
            "scrape_configs": [{"job_name": "tapotarp", "static_configs": [{"targets": targets}]}],
        }
        # JSON is YAML
        (self.dir / "prometheus.yml").write_text(json.dumps(config))
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> PrometheusProcess:
        log = (self.dir / "prometheus.log").open("ab")
        self.proc = subprocess.Popen(
            [
                self.exe,
                f"--config.file={self.dir / 'prometheus.yml'}",
                f"--storage.tsdb.path={self.dir / 'data'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"prometheus exited: {(self.dir / 'prometheus.log').read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(self.url + "/-/ready", timeout=1) as r:
                    if r.status == 200:
                        return self
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError("prometheus not ready after 20 s")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)

    def firing(self) -> list[dict[str, Any]]:
        """The alerts firing now, with their labels."""
        with urllib.request.urlopen(self.url + "/api/v1/alerts", timeout=2) as r:
            body = json.loads(r.read())
        return [a for a in body["data"]["alerts"] if a.get("state") == "firing"]


async def watch_alert(prom: PrometheusProcess, name: str, until: float, seen: list[tuple[float, bool]]) -> None:
    """Polls whether alert `name` fires, every 250 ms until `until`, into `seen` (time, firing)."""
    while time.monotonic() < until:
        try:
            firing = await asyncio.to_thread(prom.firing)
            seen.append((time.monotonic(), any(a["labels"].get("alertname") == name for a in firing)))
        except OSError:
            pass
        await asyncio.sleep(0.25)
