"""The role views in a real browser: Chromium (Debian's /usr/bin/chromium) driven by
Playwright against a uvicorn server on loopback.

Each role signs in through the login form, sees its own view drawn (charts included,
with no console error: the Content-Security-Policy must allow everything the page
needs), and is refused the others. Screenshots of this fixture store go to
``test-artifacts/`` and, when ``UNDERTOW_SCREENSHOT_DIR`` is set, there too. The README's
pictures come from a real demo world instead: ``scripts/screenshots.py``.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_support import REQUIRE_BROWSER, RolePage, free_port, why_no_browser
from conftest import UiStore, make_ui_app

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture(scope="session")
def server(ui_store: UiStore) -> Iterator[str]:
    """The app (create_app + mount_ui) served by uvicorn in a thread on a free port."""
    import uvicorn

    port = free_port()
    config = uvicorn.Config(
        make_ui_app(ui_store.settings),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="on",
    )
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not srv.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("uvicorn did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Chromium, or a skip saying why there is none (a failure with
    ``UNDERTOW_REQUIRE_BROWSER=1``, as CI sets where it installs Chromium)."""
    try:
        from playwright import sync_api
    except ImportError as exc:
        why = f"playwright is not installed ({exc})"
        if REQUIRE_BROWSER:
            pytest.fail(f"{why}; UNDERTOW_REQUIRE_BROWSER=1 asks for the browser tests")
        pytest.skip(why)
    with sync_api.sync_playwright() as p:
        b, why = why_no_browser(p)
        if b is None and REQUIRE_BROWSER:
            pytest.fail(f"{why}; UNDERTOW_REQUIRE_BROWSER=1 asks for the browser tests")
        if b is None:
            pytest.skip(str(why))
        yield b
        b.close()


class Session(RolePage):
    """A role's browser context; screenshots of this fixture store go to ``ARTIFACTS``."""

    def screenshot(self, name: str) -> None:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.capture(path)
        extra = os.environ.get("UNDERTOW_SCREENSHOT_DIR")
        if extra:
            Path(extra).mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, Path(extra) / f"{name}.png")


@pytest.fixture
def session(browser: Any, server: str) -> Iterator[Session]:
    s = Session(browser, server)
    yield s
    s.close()


VIEWS = {
    "sales": ("/ui/sales", ["list-risk", "list-expansion"]),
    "finance": ("/ui/finance", ["revenue-total", "segments", "backtest", "ledger", "csv-link"]),
    "marketing": ("/ui/marketing", ["dark-cards", "channels"]),
}


@pytest.mark.parametrize("role", ["sales", "finance", "marketing"])
def test_each_role_sees_its_view_and_is_refused_the_others(
    session: Session, ui_store: UiStore, role: str
) -> None:
    session.goto(VIEWS[role][0])
    assert "/ui/login" in session.page.url  # not signed in yet
    session.sign_in(ui_store.keys[role])
    assert session.page.url.endswith(VIEWS[role][0])
    assert session.page.get_by_test_id("role").inner_text().startswith(f"signed in as {role}")
    for testid in VIEWS[role][1]:
        assert session.page.get_by_test_id(testid).is_visible(), testid
    nav = session.page.locator("header nav a").all_inner_texts()
    assert nav == [role.capitalize()]
    drawn = session.charts_drawn()
    assert drawn >= (0 if role == "sales" else 2)
    if role == "sales":
        assert session.page.locator("svg.spark polyline").count() > 0
        assert session.page.locator("li.evidence a").count() > 0
    if role == "sales":
        session.goto("/ui/sales?limit=6")  # a shorter list for the picture
        session.charts_drawn()
    session.screenshot(role)
    assert session.errors == []  # nothing failed to load or run, CSP included
    for other, (path, _) in VIEWS.items():
        if other == role:
            continue
        response = session.goto(path)
        assert response.status == 403
        assert session.page.get_by_test_id("error").is_visible()
        assert "Not for your role" in session.page.content()
    if role == "sales":
        session.screenshot("refused")


def test_admin_sees_everything_and_follows_evidence_to_its_source(
    session: Session, ui_store: UiStore
) -> None:
    session.sign_in(ui_store.keys["admin"])
    assert session.page.locator("header nav a").all_inner_texts() == [
        "Sales",
        "Finance",
        "Marketing",
    ]
    for path, testids in VIEWS.values():
        assert session.goto(path).status == 200
        for testid in testids:
            assert session.page.get_by_test_id(testid).is_visible()
    # from the top of the risk list to the account, then one click to a text's file and line
    session.goto("/ui/sales")
    session.page.locator('[data-testid="list-risk"] tbody tr td a').first.click()
    session.page.wait_for_load_state()
    assert "/ui/accounts/" in session.page.url
    assert session.page.get_by_test_id("account-risk").is_visible()
    assert session.charts_drawn() == 2
    session.screenshot("account")
    link = session.page.locator('[data-testid="evidence"] li.evidence a').first
    where = link.inner_text()
    link.click()
    session.page.wait_for_load_state()
    provenance = session.page.get_by_test_id("provenance").inner_text()
    file_name, line = where.rsplit(":", 1)
    assert file_name in provenance and f"line {line}" in provenance
    assert session.errors == []


def test_sign_in_with_a_wrong_key_and_sign_out(session: Session, ui_store: UiStore) -> None:
    session.sign_in("ut_0000000000000000_wrong")
    assert session.page.get_by_test_id("login-error").is_visible()
    session.screenshot("login")
    session.sign_in(ui_store.keys["finance"])
    assert session.page.url.endswith("/ui/finance")
    cookies = session.context.cookies()
    ui_cookie = next(c for c in cookies if c["name"] == "undertow_ui")
    assert ui_cookie["httpOnly"] and ui_cookie["sameSite"] == "Strict"
    assert session.page.evaluate("document.cookie") == ""  # invisible to scripts
    session.page.click("header form.who button")
    session.page.wait_for_load_state()
    assert session.page.url.endswith("/ui/login")
    session.goto("/ui/finance")
    assert "/ui/login" in session.page.url
