"""Failed key checks are cheap to repeat: a budget per key id and per client, checked
before scrypt, and a cache so a legitimate key does not pay scrypt on every request."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

import api.keys
from api.app import create_app
from api.keys import parse_key
from api.settings import ApiSettings


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def scrypt_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every scrypt the verifier runs (the real one still runs), by salt."""
    calls: list[str] = []
    real = api.keys._scrypt

    def counting(secret: str, salt: bytes, *args: Any, **kwargs: Any) -> str:
        calls.append(salt.hex())
        return real(secret, salt, *args, **kwargs)

    monkeypatch.setattr(api.keys, "_scrypt", counting)
    return calls


def _auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def _forged(key: str, n: int) -> str:
    key_id, _ = parse_key(key) or ("", "")
    return f"ut_{key_id}_forged{n}"


def _app(store: Any, clock: Clock, **api: Any) -> Any:
    limits = {"auth_failures_per_key": 3, "auth_failures_per_client": 100, **api}
    app = create_app(
        store.settings,
        ApiSettings(rate_limit_per_second=0, auth_failure_window_s=60.0, **limits),
    )
    app.state.key_verifier.clock = clock  # a fresh verifier of this app: nothing cached
    return app


def test_wrong_secrets_for_a_real_key_id_get_429_without_more_scrypt(
    store: Any, scrypt_calls: list[str]
) -> None:
    clock = Clock()
    finance = store.keys["finance"]
    with TestClient(_app(store, clock)) as client:
        codes = [
            client.get("/v1/revenue-risk", headers=_auth(_forged(finance, i))).status_code
            for i in range(10)
        ]
        assert codes == [401] * 3 + [429] * 7
        assert len(scrypt_calls) == 3  # the budget, then no scrypt at all
        r = client.get("/v1/revenue-risk", headers=_auth(_forged(finance, 99)))
        assert r.status_code == 429 and r.json()["error"] == "rate_limited"
        assert 1 <= int(r.headers["retry-after"]) <= 60
        assert len(scrypt_calls) == 3
        # another key id has its own budget
        assert client.get("/v1/signals", headers=_auth(store.keys["sales"])).status_code == 200
        # once the window has passed, the right key is verified again
        clock.now += 60.0
        assert client.get("/v1/revenue-risk", headers=_auth(finance)).status_code == 200


def test_a_key_verified_before_the_attack_keeps_working_without_scrypt(
    store: Any, scrypt_calls: list[str]
) -> None:
    clock = Clock()
    finance = store.keys["finance"]
    with TestClient(_app(store, clock)) as client:
        assert client.get("/v1/revenue-risk", headers=_auth(finance)).status_code == 200
        assert len(scrypt_calls) == 1
        for i in range(6):
            client.get("/v1/revenue-risk", headers=_auth(_forged(finance, i)))
        assert len(scrypt_calls) == 4
        # the budget is spent, yet the legitimate key (already verified here) still works
        for _ in range(3):
            assert client.get("/v1/revenue-risk", headers=_auth(finance)).status_code == 200
        assert len(scrypt_calls) == 4


def test_a_client_has_a_budget_across_key_ids(store: Any, scrypt_calls: list[str]) -> None:
    clock = Clock()
    app = _app(store, clock, auth_failures_per_key=100, auth_failures_per_client=4)
    attacker = TestClient(app, client=("203.0.113.7", 40000))
    other = TestClient(app, client=("198.51.100.2", 40000))
    with attacker, other:
        codes = [
            attacker.get("/v1/signals", headers=_auth(_forged(store.keys[role], i))).status_code
            for i, role in enumerate(["sales", "finance", "marketing", "admin"] * 2)
        ]
        assert codes == [401] * 4 + [429] * 4
        assert len(scrypt_calls) == 4
        # another client address is not held back by the attacker's failures
        assert other.get("/v1/signals", headers=_auth(store.keys["sales"])).status_code == 200
        clock.now += 60.0
        assert attacker.get("/v1/signals", headers=_auth(store.keys["sales"])).status_code == 200


def test_repeated_requests_with_a_valid_key_run_scrypt_once(
    store: Any, scrypt_calls: list[str]
) -> None:
    with TestClient(_app(store, Clock())) as client:
        for _ in range(5):
            assert client.get("/v1/signals", headers=_auth(store.keys["sales"])).status_code == 200
        assert len(scrypt_calls) == 1
        # a wrong secret does not evict the cached right one
        assert (
            client.get("/v1/signals", headers=_auth(_forged(store.keys["sales"], 1))).status_code
            == 401
        )
        assert client.get("/v1/signals", headers=_auth(store.keys["sales"])).status_code == 200
        assert len(scrypt_calls) == 2


def test_the_failure_budget_can_be_switched_off(store: Any, scrypt_calls: list[str]) -> None:
    app = _app(store, Clock(), auth_failures_per_key=0, auth_failures_per_client=0)
    with TestClient(app) as client:
        finance = store.keys["finance"]
        codes = {
            client.get("/v1/revenue-risk", headers=_auth(_forged(finance, i))).status_code
            for i in range(5)
        }
        assert codes == {401} and len(scrypt_calls) == 5
