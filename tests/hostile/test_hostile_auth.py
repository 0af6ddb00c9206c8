"""Key checks under concurrency and attack: valid keys are never refused for other
people's failures, scrypt runs once per key and at most N at a time."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hostile_support import at_once
from sqlalchemy import Engine

import api.keys
from api.app import create_app
from api.keys import ApiKey, AuthThrottled, KeyVerifier, create_key
from api.settings import ApiSettings
from ingest.settings import Settings


@pytest.fixture
def slow_scrypt(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, int]]:
    """scrypt made slow enough (50 ms) for requests to overlap; counts calls and the most
    running at once."""
    real, seen = api.keys._scrypt, {"calls": 0, "running": 0, "peak": 0}
    lock = threading.Lock()

    def slow(*args: Any, **kwargs: Any) -> str:
        with lock:
            seen["calls"] += 1
            seen["running"] += 1
            seen["peak"] = max(seen["peak"], seen["running"])
        time.sleep(0.05)
        try:
            return real(*args, **kwargs)
        finally:
            with lock:
                seen["running"] -= 1

    monkeypatch.setattr(api.keys, "_scrypt", slow)
    yield seen


def test_concurrent_first_use_of_a_valid_key_runs_one_scrypt_and_is_never_refused(
    engine: Engine, slow_scrypt: dict[str, int]
) -> None:
    key = create_key(engine, "finance")["key"]
    slow_scrypt["calls"] = 0
    verifier = KeyVerifier(failures_per_key=5, failures_per_client=20)
    results = at_once(16, lambda i: verifier.verify(engine, key, client="10.0.0.1"))
    assert all(isinstance(r, ApiKey) for r in results), results
    assert slow_scrypt["calls"] == 1  # one flight for all sixteen


def test_wrong_secrets_from_one_address_do_not_lock_the_owner_out(
    engine: Engine, slow_scrypt: dict[str, int]
) -> None:
    key = create_key(engine, "finance")
    key_id = key["key_id"]
    verifier = KeyVerifier(failures_per_key=5, failures_per_client=20)
    outcomes = []
    for i in range(12):
        try:
            outcomes.append(verifier.verify(engine, f"ut_{key_id}_guess{i}", client="203.0.113.9"))
        except AuthThrottled as exc:
            outcomes.append(exc.scope)
    assert outcomes == [None] * 5 + ["key id"] * 7
    # the owner, from another address, with the real key this worker has never seen
    owner = verifier.verify(engine, key["key"], client="198.51.100.4")
    assert owner is not None and owner.key_id == key_id
    # even the attacker's address gets in with the right key once its pair budget refills,
    # and a correct key never spends a budget: 30 more successes from the attacker's pair
    verifier.clock = lambda: time.monotonic() + 3600
    for _ in range(30):
        assert verifier.verify(engine, key["key"], client="203.0.113.9") is not None


def test_attackers_concurrent_wrong_guesses_do_not_decide_the_owners_check(
    engine: Engine, slow_scrypt: dict[str, int]
) -> None:
    key = create_key(engine, "sales")
    verifier = KeyVerifier(failures_per_key=3, failures_per_client=3)

    def attempt(i: int) -> Any:
        if i == 0:
            return verifier.verify(engine, key["key"], client="198.51.100.4")
        return verifier.verify(engine, f"ut_{key['key_id']}_x{i}", client=f"203.0.113.{i}")

    results = at_once(8, attempt)
    assert isinstance(results[0], ApiKey) and results[0].role == "sales"
    assert all(r is None for r in results[1:])


def test_scrypt_runs_at_most_the_configured_numberat_once(
    engine: Engine, slow_scrypt: dict[str, int]
) -> None:
    keys = [create_key(engine, "sales")["key"] for _ in range(6)]
    verifier = KeyVerifier(concurrency=2, wait_s=10.0)
    results = at_once(6, lambda i: verifier.verify(engine, keys[i], client=f"10.0.0.{i}"))
    assert all(isinstance(r, ApiKey) for r in results), results
    assert slow_scrypt["peak"] <= 2
    # with no time to wait for a slot, the overflow is told to retry (429), never 401
    hurried = KeyVerifier(concurrency=1, wait_s=0.01)
    more = [create_key(engine, "sales")["key"] for _ in range(4)]
    results = at_once(4, lambda i: hurried.verify(engine, more[i], client=f"10.0.1.{i}"))
    throttled = [r for r in results if isinstance(r, AuthThrottled)]
    assert throttled and all(t.scope == "server" for t in throttled)
    assert all(isinstance(r, ApiKey | AuthThrottled) for r in results), results


def test_benchmark_shape_concurrent_first_requests_over_http_get_no_429(
    tmp_path: Path, slow_scrypt: dict[str, int]
) -> None:
    """The benchmark's failure: 8 clients' first requests with valid keys, rate limit off."""
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'u.db'}", data_dir=tmp_path / "d")
    app = create_app(settings, ApiSettings(rate_limit_per_second=0, access_log=False))
    with TestClient(app) as client:
        key = create_key(app.state.engine, "admin")["key"]
        codes = at_once(
            8,
            lambda i: (
                client.get(
                    "/v1/ingest/runs/1", headers={"Authorization": f"Bearer {key}"}
                ).status_code
            ),
        )
    assert codes == [404] * 8  # authenticated (no such run), never 429
