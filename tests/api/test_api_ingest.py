"""POST /v1/ingest/{kind}: the CLI's accounting, background scoring and its status URL;
and the API before any fit (409, never 500)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, insert

from api.deps import get_background_scorer
from ingest.db.schema import documents, sentiment_scores
from ingest.settings import Settings


def test_ingest_reviews_schedules_scoring_and_reports_readiness(
    store: Any, app_factory: Any
) -> None:
    calls: list[str] = []

    def scorer(engine: Engine, settings: Settings, kind: str) -> dict[str, Any]:
        calls.append(kind)
        return {"scored": 0}

    app = app_factory()
    app.dependency_overrides[get_background_scorer] = lambda: scorer
    admin = {"Authorization": f"Bearer {store.keys['admin']}"}
    records = [
        {
            "review_id": "api-1",
            "source": "g2",
            "account_id": "A3",
            "published_at": "2026-10-30",
            "rating": 5,
            "body": "Posted through the API: great support.",
        },
        {"review_id": "api-2", "account_id": "A3", "body": "no date: quarantined"},
    ]
    with TestClient(app) as client:
        r = client.post("/v1/ingest/reviews", json=records, headers=admin)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["read"] == 2 and body["inserted"] == 1 and body["rejected"] == 1
        assert body["read"] == body["inserted"] + body["duplicates"] + body["rejected"]
        assert calls == ["reviews"]  # the background task ran after the response
        assert body["scoring"]["status"] == "scheduled"
        status_url = body["scoring"]["status_url"]
        status = client.get(status_url, headers=admin).json()
        assert status["texts"] == 1 and status["ready"] is False

        # the scorer's work, as nlp.scoring would store it: the status turns ready
        with store.engine.begin() as conn:
            text_hash = (
                conn.execute(documents.select().where(documents.c.source_id == "api-1"))
                .first()
                .text_hash
            )
            conn.execute(
                insert(sentiment_scores).values(
                    text_hash=text_hash,
                    model_version="sent-test-1",
                    p_negative=0.0,
                    p_neutral=0.1,
                    p_positive=0.9,
                    sentiment=0.9,
                    n_chunks=1,
                    scored_at=datetime(2026, 11, 2),
                )
            )
        assert client.get(status_url, headers=admin).json()["ready"] is True

        again = client.post("/v1/ingest/reviews", json=records[:1], headers=admin).json()
        assert again["inserted"] == 0 and again["duplicates"] == 1
        assert again["scoring"]["status"] == "not_needed" and calls == ["reviews"]


def test_ingest_is_for_admins_only(client: TestClient, as_role: Any) -> None:
    for role in ("sales", "finance", "marketing"):
        r = client.post("/v1/ingest/reviews", json=[], headers=as_role(role))
        assert r.status_code == 403


def test_ingest_rejects_what_is_not_an_array_of_records(client: TestClient, as_role: Any) -> None:
    admin = as_role("admin")
    assert client.post("/v1/ingest/reviews", json={"a": 1}, headers=admin).status_code == 422
    assert client.post("/v1/ingest/reviews", json=[1, 2], headers=admin).status_code == 422
    assert client.post("/v1/ingest/emails", json=[], headers=admin).status_code == 422
    r = client.post(
        "/v1/ingest/reviews",
        content=b"[{not json",
        headers={**admin, "Content-Type": "application/json"},
    )
    assert r.status_code == 422


def test_before_any_fit_feeds_say_409_and_accounts_still_work(no_fit_client: Any) -> None:
    client, keys = no_fit_client

    def get(route: str, role: str) -> Any:
        return client.get(route, headers={"Authorization": f"Bearer {keys[role]}"})

    for route, role in [
        ("/v1/signals", "sales"),
        ("/v1/churn-risk", "finance"),
        ("/v1/churn-risk?format=csv", "finance"),
        ("/v1/revenue-risk", "finance"),
        ("/v1/provenance/p_churn/A1", "finance"),
    ]:
        r = get(route, role)
        assert r.status_code == 409, (route, r.text)
        assert r.json()["error"] == "no_snapshot" and "undertow fit" in r.json()["detail"]
    view = get("/v1/accounts/A1", "sales").json()
    assert view["risk"] is None and view["trajectory_source"] == "texts"
    assert len(view["trajectory"]) == 5  # months with scored texts, from the texts
    health = client.get("/health").json()
    assert health["status"] == "ok" and health["model_version"] is None
