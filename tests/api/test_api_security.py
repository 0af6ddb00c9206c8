"""Keys stored as salted hashes, revocation, rate limit, body limit, request ids, logs."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.keys import create_key, list_keys, parse_key, revoke_key
from api.ratelimit import TokenBucketLimiter
from ingest.db.schema import api_keys
from ingest.errors import InputError, NotFoundError


def test_keys_are_stored_only_as_salted_hashes(store: Any) -> None:
    a = create_key(store.engine, "finance", name="a")
    b = create_key(store.engine, "finance", name="b")
    key_id, secret = parse_key(a["key"]) or ("", "")
    with store.engine.connect() as conn:
        rows = {r.key_id: r for r in conn.execute(select(api_keys))}
    row = rows[key_id]
    assert secret not in row.key_hash and secret not in row.salt
    assert row.key_hash.startswith("scrypt$")
    assert rows[a["key_id"]].salt != rows[b["key_id"]].salt
    assert all("key" not in k and "key_hash" not in k for k in list_keys(store.engine))


def test_unknown_role_is_an_input_error(store: Any) -> None:
    with pytest.raises(InputError, match="role must be one of"):
        create_key(store.engine, "ceo")


def test_revoked_key_is_refused_at_once(client: TestClient, store: Any) -> None:
    key = create_key(store.engine, "finance")
    headers = {"Authorization": f"Bearer {key['key']}"}
    assert client.get("/v1/revenue-risk", headers=headers).status_code == 200
    revoke_key(store.engine, key["key_id"])
    assert client.get("/v1/revenue-risk", headers=headers).status_code == 401
    assert list_keys(store.engine)[-1]["revoked_at"] is not None
    with pytest.raises(NotFoundError):
        revoke_key(store.engine, "0000000000000000")


def test_rate_limit_per_key_gives_429_with_retry_after(store: Any, app_factory: Any) -> None:
    app = app_factory(rate_limit_per_second=0.01, rate_limit_burst=3)
    sales = {"Authorization": f"Bearer {store.keys['sales']}"}
    finance = {"Authorization": f"Bearer {store.keys['finance']}"}
    with TestClient(app) as client:
        codes = [client.get("/v1/signals", headers=sales).status_code for _ in range(5)]
        assert codes == [200, 200, 200, 429, 429]
        r = client.get("/v1/signals", headers=sales)
        assert r.json()["error"] == "rate_limited" and int(r.headers["retry-after"]) >= 1
        # another key has its own bucket
        assert client.get("/v1/revenue-risk", headers=finance).status_code == 200


def test_token_bucket_refills() -> None:
    bucket = TokenBucketLimiter(rate=2.0, burst=2)
    assert [bucket.take("k", now=0.0) for _ in range(3)][:2] == [0.0, 0.0]
    assert bucket.take("k", now=0.0) > 0
    assert bucket.take("k", now=1.0) == 0.0


def test_oversized_body_is_413(store: Any, app_factory: Any) -> None:
    app = app_factory(max_body_bytes=1_000, max_records=2)
    admin = {"Authorization": f"Bearer {store.keys['admin']}"}
    with TestClient(app) as client:
        big = [{"review_id": str(i), "body": "x" * 100} for i in range(20)]
        r = client.post("/v1/ingest/reviews", json=big, headers=admin)
        assert r.status_code == 413 and r.json()["error"] == "payload_too_large"

        def chunks():  # no Content-Length: counted while streaming
            yield b"["
            for _ in range(50):
                yield b'{"review_id": "1", "body": "' + b"y" * 50 + b'"},'
            yield b"{}]"

        r = client.post(
            "/v1/ingest/reviews",
            content=chunks(),
            headers={**admin, "Content-Type": "application/json"},
        )
        assert r.status_code == 413
        three = [{"review_id": str(i)} for i in range(3)]
        r = client.post("/v1/ingest/reviews", json=three, headers=admin)
        assert r.status_code == 413 and "at most 2" in r.json()["detail"]


def test_request_id_and_access_log_without_secrets(
    client: TestClient, store: Any, caplog: pytest.LogCaptureFixture
) -> None:
    key = store.keys["finance"]
    with caplog.at_level(logging.INFO, logger="undertow.access"):
        r = client.get(
            "/v1/churn-risk?limit=1",
            headers={"Authorization": f"Bearer {key}", "X-Request-ID": "req-123"},
        )
        bad = client.get("/v1/churn-risk", headers={"X-Request-ID": "bad id with spaces"})
    assert r.headers["x-request-id"] == "req-123"
    assert bad.headers["x-request-id"] != "bad id with spaces"
    assert bad.json()["request_id"] == bad.headers["x-request-id"]
    lines = [
        json.loads(rec.getMessage()) for rec in caplog.records if rec.name == "undertow.access"
    ]
    ok = next(line for line in lines if line["request_id"] == "req-123")
    assert ok["status"] == 200 and ok["role"] == "finance" and ok["path"] == "/v1/churn-risk"
    assert ok["key_id"] == key.split("_")[1]
    secret = key.split("_", 2)[2]
    assert all(secret not in rec.getMessage() for rec in caplog.records)


def test_cors_is_off_by_default(client: TestClient) -> None:
    r = client.get("/health", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in r.headers
    r = client.options(
        "/v1/signals",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
    )
    assert "access-control-allow-origin" not in r.headers


def test_cors_allows_only_the_configured_origins(store: Any, app_factory: Any) -> None:
    app = app_factory(cors_origins=("https://bi.example",))
    with TestClient(app) as client:
        ok = client.get("/health", headers={"Origin": "https://bi.example"})
        other = client.get("/health", headers={"Origin": "https://evil.example"})
    assert ok.headers["access-control-allow-origin"] == "https://bi.example"
    assert "access-control-allow-origin" not in other.headers


def test_an_unexpected_error_is_a_500_without_internals(store: Any, app_factory: Any) -> None:
    from api.deps import get_sentiment_version

    app = app_factory()

    def boom() -> str:
        raise KeyError("secret internals /etc/passwd")

    app.dependency_overrides[get_sentiment_version] = boom
    admin = {"Authorization": f"Bearer {store.keys['admin']}"}
    with TestClient(app, raise_server_exceptions=False) as client:
        runs = client.post("/v1/ingest/accounts", json=[], headers=admin).json()
        r = client.get(f"/v1/ingest/runs/{runs.get('ingest_run_id') or 1}", headers=admin)
    assert r.status_code == 500
    assert r.json()["error"] == "internal_error" and "passwd" not in r.text
