"""Browser tests of the web client: real headless Chromium against a real service process on
a real Redis.

One browser for the package, a fresh context (own localStorage, own socket) per page, one
service process per test module. Every page records uncaught JavaScript errors, console
errors and Content-Security-Policy violations; a test whose pages had any fails even if its
own assertions passed. A test that provokes a console error on purpose names it, exactly, on
the page that logs it (`App.expect_console_error`).

`page.wait_for_function` takes arrow functions only (`"() => ..."`): a bare expression is
re-evaluated with `eval` on every poll after the first, which the page's CSP refuses, so it
fails whenever the condition is not already true on the first look.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Literal, Protocol

import pytest
from playwright.sync_api import Browser, Playwright, expect, sync_playwright

from stack.instance import ServiceProcess
from stack.redis_server import RedisProcess
from tests.support.page import App, Wire
from tools.chromium import CHROMIUM, LAUNCH_ARGS

#: Budget of one UI expectation; what the tests wait for happens in milliseconds.
expect.set_options(timeout=5_000)

#: Runs before the page's own scripts in every document.
RECORD_CSP_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`);
});
"""


class OpenApp(Protocol):
    def __call__(
        self,
        path: str = "/",
        width: int = 1280,
        height: int = 800,
        *,
        base_url: str | None = None,
        permissions: list[str] | None = None,
        reduced_motion: Literal["reduce", "no-preference"] | None = None,
        connected: bool = True,
        wire: bool = False,
    ) -> App: ...


@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    # package scope: the sync API owns an event loop while it runs, which must be gone before
    # the asyncio tests of other packages start
    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="package")
def browser(playwright: Playwright) -> Iterator[Browser]:
    b = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=list(LAUNCH_ARGS))
    try:
        yield b
    finally:
        b.close()


@pytest.fixture(scope="module")
def service(redis_proc: RedisProcess, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    """The module's own `python -m service` on the shared test Redis."""
    if not redis_proc.is_running():
        redis_proc.start()
    proc = ServiceProcess(redis_proc.url, tmp_path_factory.mktemp("web-logs"), name="web").start()
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture
def opened_apps() -> list[App]:
    """Every app the test's `open_app` opened, in order."""
    return []


@pytest.fixture
def open_app(browser: Browser, service: ServiceProcess, opened_apps: list[App]) -> Iterator[OpenApp]:
    """Opens the app in a new browser context (its own localStorage: another device) and,
    unless `connected=False`, waits until its socket is up. With `wire=True` its socket runs
    through a `Wire` (`app.wire`) the test can hold back, inject into and close."""
    apps = opened_apps

    def open_(
        path: str = "/",
        width: int = 1280,
        height: int = 800,
        *,
        base_url: str | None = None,
        permissions: list[str] | None = None,
        reduced_motion: Literal["reduce", "no-preference"] | None = None,
        connected: bool = True,
        wire: bool = False,
    ) -> App:
        context = browser.new_context(
            viewport={"width": width, "height": height}, permissions=permissions, reduced_motion=reduced_motion
        )
        context.add_init_script(RECORD_CSP_VIOLATIONS)
        app = App(context, base_url or service.url)
        apps.append(app)
        if wire:
            app.wire = Wire(app)
        app.open(path, connected=connected)
        return app

    yield open_
    errors = [f"{a.page.url}: {e}" for a in apps for e in a.page_errors]
    errors += [f"{a.page.url}: console {e}" for a in apps for e in a.unexpected_console_errors()]
    for a in apps:
        if not a.page.is_closed():
            errors += [f"{a.page.url}: CSP {v}" for v in a.csp_violations()]
        a.context.close()
    assert not errors, "errors in the page:\n" + "\n".join(errors)


@pytest.fixture(scope="session")
def screenshots_dir() -> Path:
    """Where the tests leave their screenshots (gitignored; the README's, in docs/img/, are copies)."""
    path = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path
