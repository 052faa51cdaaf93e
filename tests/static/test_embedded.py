"""What `make run` serves: the embedded engine and the default limits, played from two
browsers; no Redis anywhere."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from service.settings import Settings
from stack.instance import ServiceProcess
from tests.static.conftest import OpenApp

pytestmark = pytest.mark.slow

ACTIVE = re.compile(r"\bactive\b")

#: the defaults a user of `make run` gets (the harness turns limits off unless told otherwise)
DEFAULT_LIMITS = {
    "RATE_LIMIT_CONNECTIONS_PER_MIN": str(Settings.rate_connections_per_min),
    "RATE_LIMIT_MESSAGES_PER_S": str(Settings.rate_messages_per_s),
    "RATE_LIMIT_SOCKET_MESSAGES_PER_S": str(Settings.rate_socket_messages_per_s),
    "RATE_LIMIT_GAMES_PER_HOUR": str(Settings.rate_games_per_hour),
    "MAX_SOCKETS_PER_IP": str(Settings.max_sockets_per_ip),
}


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    """This module's service: no REDIS_URL, as `make run` starts it."""
    proc = ServiceProcess("", tmp_path_factory.mktemp("embedded-logs"), name="embedded", **DEFAULT_LIMITS)
    proc.env.pop("TAPOTARP_TEST_CLOCK")
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()


def test_two_browsers_play_on_the_embedded_engine_with_the_default_limits(
    open_app: OpenApp, service: ServiceProcess
) -> None:
    a = open_app(width=375, height=740)
    code = a.create_game(players=2, time_each="5")
    a.claim(1)
    b = open_app(a.share_link().removeprefix(a.base_url), width=375, height=740)
    expect(b.page.locator("#game-code")).to_have_text(code)
    b.claim(2)
    a.start()
    expect(b.card(1)).to_have_class(ACTIVE)
    # both clocks run down from 5:00 on both screens
    for app in (a, b):
        expect(app.clock(1)).not_to_have_text("5:00")
    a.page.click("#btn-pass")
    expect(b.card(2)).to_have_class(ACTIVE)
    b.page.click("#btn-pass")
    expect(a.card(1)).to_have_class(ACTIVE)
    # nothing either page sent in a normal game came near the limits
    for app in (a, b):
        assert not [m for m in app.received if m.get("data", {}).get("message") == "Rate limit exceeded"]
    assert "REDIS_URL is not set" in service.log_path.read_text()
