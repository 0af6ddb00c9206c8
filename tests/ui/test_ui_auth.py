"""Sign-in, sessions, roles and CSRF of the /ui pages, through the HTTP boundary."""

from __future__ import annotations

import re
from http.cookies import SimpleCookie

import pytest
from conftest import SECRET, UiStore, make_ui_app, sign_in
from fastapi.testclient import TestClient

from api.keys import create_key, revoke_key
from api.ui.session import COOKIE, SessionCodec, new_session
from ingest.settings import SettingsError

ROLE_PAGES = {"sales": "/ui/sales", "finance": "/ui/finance", "marketing": "/ui/marketing"}


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match
    return match.group(1)


def test_pages_redirect_to_login_when_signed_out(ui_client: TestClient) -> None:
    for path in [
        *ROLE_PAGES.values(),
        "/ui/accounts/ACC-001",
        "/ui/documents/1",
        "/ui/finance/churn-risk.csv",
    ]:
        r = ui_client.get(path, follow_redirects=False)
        assert r.status_code == 303, path
        assert r.headers["location"].startswith("/ui/login?next=%2Fui%2F"), path
    assert ui_client.get("/ui/", follow_redirects=False).headers["location"] == "/ui/login"


def test_login_sets_http_only_strict_signed_cookie_without_the_key(
    ui_client: TestClient, ui_store: UiStore
) -> None:
    key = ui_store.keys["finance"]
    r = sign_in(ui_client, key)
    assert r.status_code == 303
    assert r.headers["location"] == "/ui/finance"
    raw = r.headers["set-cookie"]
    cookie = SimpleCookie()
    cookie.load(raw)
    morsel = cookie[COOKIE]
    assert morsel["httponly"] and morsel["samesite"].lower() == "strict" and morsel["path"] == "/ui"
    secret_part = key.split("_", 2)[2]
    assert secret_part not in raw and key not in raw
    page = ui_client.get("/ui/finance")
    assert page.status_code == 200
    assert "signed in as <strong>finance</strong>" in page.text


@pytest.mark.parametrize("role", ["sales", "finance", "marketing", "admin"])
def test_role_decides_what_is_visible(ui_client: TestClient, ui_store: UiStore, role: str) -> None:
    assert sign_in(ui_client, ui_store.keys[role]).status_code == 303
    for page_role, path in ROLE_PAGES.items():
        r = ui_client.get(path)
        allowed = role in (page_role, "admin")
        assert r.status_code == (200 if allowed else 403), (role, path)
        if not allowed:
            assert "Not for your role" in r.text and 'data-status="403"' in r.text
        nav_link = f'<a href="{path}"'
        assert (nav_link in ui_client.get("/ui/accounts/ACC-002").text) == allowed, (role, path)
    csv = ui_client.get("/ui/finance/churn-risk.csv")
    assert csv.status_code == (200 if role in ("finance", "admin") else 403)
    assert ui_client.get("/ui/accounts/ACC-002").status_code == 200  # every role reads accounts
    home = ui_client.get("/ui/", follow_redirects=False).headers["location"]
    assert home == ROLE_PAGES.get(role, "/ui/sales")


def test_wrong_key_is_refused_and_form_shown_again(ui_client: TestClient) -> None:
    r = sign_in(ui_client, "ut_0123456789abcdef_notarealsecret")
    assert r.status_code == 401
    assert "Unknown or revoked API key" in r.text
    assert ui_client.get("/ui/sales", follow_redirects=False).status_code == 303


def test_login_without_or_with_a_wrong_csrf_token_is_refused(
    ui_client: TestClient, ui_store: UiStore
) -> None:
    key = ui_store.keys["admin"]
    ui_client.get("/ui/login")
    for token in ("", "forged-token"):
        r = ui_client.post(
            "/ui/login", data={"key": key, "csrf_token": token}, follow_redirects=False
        )
        assert r.status_code == 403 and "Form expired" in r.text
    ui_client.cookies.clear()  # no session cookie at all: a cross-site POST
    r = ui_client.post("/ui/login", data={"key": key, "csrf_token": "x"}, follow_redirects=False)
    assert r.status_code == 403
    assert ui_client.get("/ui/sales", follow_redirects=False).status_code == 303


def test_form_posted_from_another_origin_is_refused(
    ui_client: TestClient, ui_store: UiStore
) -> None:
    token = _csrf(ui_client.get("/ui/login").text)
    r = ui_client.post(
        "/ui/login",
        data={"key": ui_store.keys["admin"], "csrf_token": token},
        headers={"Origin": "https://evil.example"},
        follow_redirects=False,
    )
    assert r.status_code == 403 and "another site" in r.text


def test_logout_needs_the_token_and_ends_the_session(
    ui_client: TestClient, ui_store: UiStore
) -> None:
    sign_in(ui_client, ui_store.keys["sales"])
    page = ui_client.get("/ui/sales")
    assert (
        ui_client.post(
            "/ui/logout", data={"csrf_token": "wrong"}, follow_redirects=False
        ).status_code
        == 403
    )
    assert ui_client.get("/ui/sales").status_code == 200  # still signed in
    r = ui_client.post("/ui/logout", data={"csrf_token": _csrf(page.text)}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/ui/login"
    assert ui_client.get("/ui/sales", follow_redirects=False).status_code == 303


def test_csrf_token_rotates_at_sign_in(ui_client: TestClient, ui_store: UiStore) -> None:
    before = _csrf(ui_client.get("/ui/login").text)
    sign_in(ui_client, ui_store.keys["sales"])
    after = _csrf(ui_client.get("/ui/sales").text)
    assert before != after


def test_tampered_or_foreign_cookie_is_not_a_session(
    ui_client: TestClient, ui_store: UiStore
) -> None:
    sign_in(ui_client, ui_store.keys["sales"])
    value = ui_client.cookies.get(COOKIE)
    assert value
    ui_client.cookies.clear()
    ui_client.cookies.set(COOKIE, value, domain="testserver.local", path="/ui")
    assert ui_client.get("/ui/sales").status_code == 200  # the genuine cookie, set the same way
    forged_role = SessionCodec("another-secret-" + "y" * 32).dumps(new_session("whatever", "admin"))
    for bad in (value[:-3] + "abc", forged_role):
        ui_client.cookies.clear()
        ui_client.cookies.set(COOKIE, bad, domain="testserver.local", path="/ui")
        assert ui_client.get("/ui/finance", follow_redirects=False).status_code == 303


def test_revoked_key_signs_the_session_out(ui_store: UiStore) -> None:
    key = create_key(ui_store.engine, "marketing", name="to revoke")
    with TestClient(make_ui_app(ui_store.settings)) as client:
        sign_in(client, key["key"])
        assert client.get("/ui/marketing").status_code == 200
        revoke_key(ui_store.engine, key["key_id"])
        assert client.get("/ui/marketing", follow_redirects=False).status_code == 303
        assert sign_in(client, key["key"]).status_code == 401


def test_login_returns_to_the_requested_page_but_never_off_site(
    ui_client: TestClient, ui_store: UiStore
) -> None:
    r = ui_client.get("/ui/accounts/ACC-003?offset=0", follow_redirects=False)
    target = r.headers["location"]
    login_page = ui_client.get(target)
    assert 'name="next" value="/ui/accounts/ACC-003?offset=0"' in login_page.text
    r = sign_in(ui_client, ui_store.keys["sales"], next_path="/ui/accounts/ACC-003?offset=0")
    assert r.headers["location"] == "/ui/accounts/ACC-003?offset=0"
    for evil in ("https://evil.example/ui/x", "//evil.example/ui/", "/v1/churn-risk", "/ui/\\evil"):
        ui_client.cookies.clear()
        r = sign_in(ui_client, ui_store.keys["sales"], next_path=evil)
        assert r.headers["location"] == "/ui/sales", evil


def test_pages_carry_security_headers_and_serve_plotly_locally(
    ui_client: TestClient, ui_store: UiStore
) -> None:
    from api.ui.routes import plotly_js_path

    sign_in(ui_client, ui_store.keys["finance"])
    page = ui_client.get("/ui/finance")
    csp = page.headers["content-security-policy"]
    nonce = re.search(r"'nonce-([^']+)'", csp)
    assert nonce and f'nonce="{nonce.group(1)}"' in page.text
    assert "frame-ancestors 'none'" in csp and page.headers["x-frame-options"] == "DENY"
    assert page.headers["cache-control"] == "no-store"
    assert '<script src="/ui/static/vendor/plotly.min.js">' in page.text
    assert "cdn" not in page.text.lower()
    js = ui_client.get("/ui/static/vendor/plotly.min.js")
    assert js.status_code == 200 and js.headers["content-type"].startswith("text/javascript")
    assert js.content == plotly_js_path().read_bytes()
    css = ui_client.get("/ui/static/ui.css")
    assert css.status_code == 200 and "text/css" in css.headers["content-type"]


def test_session_secret_comes_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, ui_store: UiStore
) -> None:
    """Two processes (apps) with the same UNDERTOW_UI_SECRET accept each other's cookies."""
    from api.app import create_app
    from api.settings import ApiSettings
    from api.ui import mount_ui

    monkeypatch.setenv("UNDERTOW_UI_SECRET", SECRET)
    apps = [
        mount_ui(create_app(ui_store.settings, ApiSettings(rate_limit_per_second=0)))
        for _ in range(2)
    ]
    with TestClient(apps[0]) as first, TestClient(apps[1]) as second:
        sign_in(first, ui_store.keys["sales"])
        second.cookies.set(
            COOKIE, first.cookies.get(COOKIE) or "", domain="testserver.local", path="/ui"
        )
        assert second.get("/ui/sales").status_code == 200
    monkeypatch.setenv("UNDERTOW_UI_SECRET", "short")
    with pytest.raises(SettingsError, match="UNDERTOW_UI_SECRET"):
        mount_ui(create_app(ui_store.settings))


def test_repeated_wrong_secrets_for_a_real_key_id_are_refused_before_scrypt(
    ui_store: UiStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    import api.keys

    real, calls = api.keys._scrypt, []
    monkeypatch.setattr(api.keys, "_scrypt", lambda *a, **k: calls.append(1) or real(*a, **k))
    key_id = ui_store.keys["finance"].split("_")[1]
    with TestClient(make_ui_app(ui_store.settings)) as client:  # its own verifier
        codes = [sign_in(client, f"ut_{key_id}_guess{i}").status_code for i in range(8)]
        budget = codes.count(401)
        assert codes == [401] * budget + [429] * (8 - budget) and 1 <= budget < 8
        assert len(calls) == budget  # no scrypt once the budget is spent
        refused = sign_in(client, f"ut_{key_id}_guess99")
        assert "Too many" in refused.text and int(refused.headers["retry-after"]) >= 1
        # another key still signs in
        assert sign_in(client, ui_store.keys["sales"]).status_code == 303


def test_successful_sign_ins_spend_no_budget(ui_store: UiStore) -> None:
    """Sign-ins with valid keys, as many as a busy morning (or a test run) brings, are
    never refused: only failures spend the budgets (the suite without Chromium hit 429)."""
    with TestClient(make_ui_app(ui_store.settings)) as client:
        for i in range(40):
            client.cookies.clear()
            role = ("sales", "finance", "marketing", "admin")[i % 4]
            assert sign_in(client, ui_store.keys[role]).status_code == 303, i


def test_logout_revokes_the_session_server_side_for_every_copy_of_the_cookie(
    ui_store: UiStore,
) -> None:
    """A cookie copied before sign-out stops working, on this app and on another worker
    (app) sharing the store and the secret."""
    apps = [make_ui_app(ui_store.settings) for _ in range(2)]
    with TestClient(apps[0]) as victim, TestClient(apps[0]) as thief, TestClient(apps[1]) as other:
        sign_in(victim, ui_store.keys["finance"])
        page = victim.get("/ui/finance")
        copied = victim.cookies.get(COOKIE) or ""
        for client in (thief, other):
            client.cookies.set(COOKIE, copied, domain="testserver.local", path="/ui")
            assert client.get("/ui/finance").status_code == 200
        victim.post("/ui/logout", data={"csrf_token": _csrf(page.text)})
        for client in (thief, other):
            assert client.get("/ui/finance", follow_redirects=False).status_code == 303
        # a cookie signed with the right secret but naming no stored session is none
        forged = SessionCodec(SECRET).dumps(
            new_session(ui_store.keys["admin"].split("_")[1], "admin", sid="made-up")
        )
        thief.cookies.set(COOKIE, forged, domain="testserver.local", path="/ui")
        assert thief.get("/ui/sales", follow_redirects=False).status_code == 303
