"""Fixtures of the API tests: a store populated through its tables (the interface).

``api_store`` writes a small reviews CSV and inserts, as the ingest, scoring and fitting
code would: accounts, documents pointing at the CSV's lines, sentiment scores, one risk
run with predictions and monthly trajectories. ``keys`` holds one API key per role.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, insert, select

from api.app import create_app
from api.deps import get_background_scorer, get_sentiment_version
from api.keys import ROLES, KeyVerifier, create_key
from api.settings import ApiSettings
from ingest.db.engine import open_store
from ingest.db.schema import (
    accounts,
    api_keys,
    documents,
    risk_predictions,
    risk_runs,
    risk_trajectories,
    sentiment_scores,
)
from ingest.settings import Settings

AS_OF = date(2026, 10, 31)
RUN_ID = "run-0001"
SENTIMENT_VERSION = "sent-test-1"
MODEL_VERSION = "cox-test-1"

# account_id, name, segment, arr, sentiment, trend, p90, p_expand_180d, churned
ACCOUNTS = [
    ("A1", "Acme Corp", "enterprise", 120_000.0, -0.45, -0.30, 0.40, 0.05, None),
    ("A2", '=HYPERLINK("http://x")', "mid", 40_000.0, -0.10, -0.10, 0.20, 0.10, None),
    ("A3", "Cobalt", "mid", 60_000.0, 0.35, 0.20, 0.05, 0.45, None),
    ("A4", "Delta", "smb", 8_000.0, 0.20, 0.05, 0.08, 0.30, None),
    ("A5", "Echo", "smb", 5_000.0, -0.60, None, 0.0, None, date(2026, 6, 1)),
]
# what a fit stores about its lists (risk.signals): the calibration lines' figures
LIST_METRICS: dict[str, Any] = {
    "expansion": {"status": "ok", "model_version": "expansion_pem-v1-test"},
    "lists": {
        "risk": {
            "horizon_days": 90,
            "origins": [  # in any order: the line reads the most recent
                {"origin": "2026-08-02", "accounts": 200, "base_rate": 0.05,
                 "top": {"25": 0.4, "50": 0.34, "100": 0.22},
                 "top_trend": {"25": 0.12, "50": 0.1, "100": 0.08},
                 "top_revenue_at_risk": {"25": 0.36, "50": 0.3, "100": 0.2}},
                {"origin": "2026-05-04", "accounts": 180, "base_rate": 0.06,
                 "top": {"25": 0.36, "50": 0.3, "100": 0.2},
                 "top_trend": {"25": 0.08, "50": 0.1, "100": 0.09},
                 "top_revenue_at_risk": {"25": 0.32, "50": 0.26, "100": 0.18}},
            ],
        },
        "expansion": {
            "horizon_days": 180,
            "origins": [
                {"origin": "2026-05-04", "accounts": 190, "base_rate": 0.14,
                 "top": {"25": 0.48, "50": 0.42, "100": 0.3},
                 "top_trend": {"25": 0.2, "50": 0.16, "100": 0.15}},
            ],
        },
    },
}  # fmt: skip
# texts in the 90 days before AS_OF (the fixture's texts_90d)
TEXTS_90D = {"A1": 3, "A2": 1, "A3": 2, "A4": 1}
# account_id, created_at, text, sentiment
TEXTS = [
    ("A1", datetime(2026, 10, 20), "Support ignored our outage for three days.", -0.9),
    ("A1", datetime(2026, 9, 15), "The new billing page keeps failing.", -0.6),
    ("A1", datetime(2026, 8, 20), "Onboarding was fine.", 0.2),
    ("A1", datetime(2026, 3, 3), "Great product, we love it.", 0.8),
    ("A1", datetime(2026, 11, 20), "Written after as_of: never evidence of this run.", -1.0),
    ("A2", datetime(2026, 10, 2), "Slow exports, somewhat annoying.", -0.3),
    ("A3", datetime(2026, 10, 10), "The team is thrilled with the dashboards.", 0.9),
    ("A3", datetime(2026, 9, 1), "Reports got much faster.", 0.6),
    ("A4", datetime(2026, 10, 1), "Solid release.", 0.4),
    ("A5", datetime(2026, 5, 1), "We are leaving.", -0.9),
]


@dataclass
class Store:
    engine: Engine
    settings: Settings
    csv_path: Path
    doc_ids: dict[str, int] = field(default_factory=dict)  # text -> document id
    keys: dict[str, str] = field(default_factory=dict)


def write_reviews_csv(path: Path) -> dict[str, int]:
    """The reviews file the documents were 'ingested' from; text -> physical line number."""
    lines: dict[str, int] = {}
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["review_id", "account_id", "published_at", "body"])
        for i, (account_id, created, text, _) in enumerate(TEXTS, start=1):
            writer.writerow([f"R{i}", account_id, created.isoformat(), text])
            lines[text] = i + 1  # the header is line 1
    return lines


def populate(engine: Engine, csv_path: Path, *, with_run: bool = True) -> dict[str, int]:
    lines = write_reviews_csv(csv_path)
    now = datetime(2026, 11, 1)
    doc_ids: dict[str, int] = {}
    with engine.begin() as conn:
        for i, (aid, name, seg, arr, *_rest) in enumerate(ACCOUNTS):
            conn.execute(
                insert(accounts).values(
                    account_id=aid,
                    name=name,
                    name_norm=name.lower(),
                    domain=f"{aid.lower()}.example",
                    segment=seg,
                    arr=arr,
                    currency="USD",
                    contract_start=date(2024, 1, 1),
                    churned_at=_rest[-1],
                    tracked_source="organic_search",
                    source="csv",
                    source_file="accounts.csv",
                    source_line=i + 2,
                    row_hash=f"acc{i}",
                    updated_at=now,
                )
            )
        for i, (aid, created, text, sentiment) in enumerate(TEXTS, start=1):
            text_hash = hashlib.sha256(text.encode()).hexdigest()
            doc_id = conn.execute(
                insert(documents).values(
                    kind="review",
                    source="g2",
                    source_id=f"R{i}",
                    account_id=aid,
                    resolved_by="account_id",
                    created_at=created,
                    text=text,
                    text_hash=text_hash,
                    content_hash=f"c{i}",
                    text_chars=len(text),
                    truncated=False,
                    rating=4.0,
                    source_file=str(csv_path),
                    source_line=lines[text],
                    row_hash=f"row{i}",
                )
            ).inserted_primary_key[0]
            doc_ids[text] = int(doc_id)
            conn.execute(
                insert(sentiment_scores).values(
                    text_hash=text_hash,
                    model_version=SENTIMENT_VERSION,
                    p_negative=max(0.0, -sentiment),
                    p_neutral=1 - abs(sentiment),
                    p_positive=max(0.0, sentiment),
                    sentiment=sentiment,
                    n_chunks=1,
                    scored_at=now,
                )
            )
        if with_run:
            insert_run(conn)
    return doc_ids


def insert_run(conn: Any, run_id: str = RUN_ID, created_at: datetime | None = None) -> None:
    conn.execute(
        insert(risk_runs).values(
            run_id=run_id,
            as_of=AS_OF,
            created_at=created_at or datetime(2026, 11, 1, 3),
            model_version=MODEL_VERSION,
            sentiment_model_version=SENTIMENT_VERSION,
            status="complete",
            n_accounts=4,
            params={"discount_rate": 0.1, "ltv_horizon_years": 5},
            metrics={"c_index": 0.71, "integrated_brier": 0.12, **LIST_METRICS},
        )
    )
    for aid, _name, seg, arr, sentiment, trend, p90, p_expand, churned in ACCOUNTS:
        if churned is not None:
            continue
        conn.execute(
            insert(risk_predictions).values(
                run_id=run_id,
                account_id=aid,
                arr=arr,
                segment=seg,
                sentiment=sentiment,
                sentiment_trend=trend,
                p_churn_90d=p90,
                p_churn_90d_low=p90 * 0.5,
                p_churn_90d_high=min(1.0, p90 * 1.5),
                p_churn_180d=min(1.0, p90 * 1.6),
                p_churn_180d_low=min(1.0, p90 * 1.0),
                p_churn_180d_high=min(1.0, p90 * 2.0),
                p_churn_365d=min(1.0, p90 * 2.2),
                p_churn_365d_low=min(1.0, p90 * 1.5),
                p_churn_365d_high=min(1.0, p90 * 2.5),
                expected_ltv=arr * 3.1,
                reason=f"sentiment fell {trend:+.2f} in 90 days",
                drivers=[
                    {
                        "feature": "sentiment_trend",
                        "value": trend,
                        "effect": -trend,
                        "text": "trend",
                    }
                ],
                revenue_at_risk_90d=arr * p90,
                texts_90d=TEXTS_90D[aid],
                trend_weight=0.4 if aid == "A2" else 0.8,
                p_expand_180d=p_expand,
                expansion_reason=f"Expansion more likely: NPS above typical ({aid})",
                expansion_drivers=[
                    {
                        "feature": "nps_level",
                        "value": 9.0,
                        "typical": 7.0,
                        "effect": 0.5,
                        "text": "NPS above typical (9.0/10 vs. 7.0/10 typical)",
                        "cited": True,
                    },
                    {
                        "feature": "nps_trend",
                        "value": 0.5,
                        "typical": 0.0,
                        "effect": -0.2,
                        "text": "NPS rising (+0.5 over 3 months)",
                        "cited": False,
                    },
                ],  # fmt: skip
            )
        )
        for month, value in ((date(2026, 8, 1), sentiment - trend), (date(2026, 10, 1), sentiment)):
            conn.execute(
                insert(risk_trajectories).values(
                    run_id=run_id, account_id=aid, month=month, sentiment=value, n_texts=2
                )
            )


def insert_keys(engine: Engine, rows: list[dict]) -> None:
    with engine.begin() as conn:
        conn.execute(insert(api_keys), [{k: v for k, v in r.items() if k != "id"} for r in rows])


def fake_scorer(engine: Engine, settings: Settings, kind: str) -> dict[str, Any]:
    return {"scored": 0}


def make_app(settings: Settings, verifier: KeyVerifier | None = None, **api: Any) -> FastAPI:
    app = create_app(settings, ApiSettings(**{"rate_limit_per_second": 0, **api}))
    if verifier is not None:
        app.state.key_verifier = verifier
    app.dependency_overrides[get_background_scorer] = lambda: fake_scorer
    app.dependency_overrides[get_sentiment_version] = lambda: SENTIMENT_VERSION
    return app


@pytest.fixture(scope="session")
def key_rows(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, str], list[dict]]:
    """One key per role, hashed once per session (scrypt is slow on purpose): the keys and
    their ``api_keys`` rows, which each test store receives as plain inserts."""
    path = tmp_path_factory.mktemp("keys") / "keys.db"
    eng = open_store(Settings(database_url=f"sqlite:///{path}"))
    keys = {role: create_key(eng, role, name=f"test {role}")["key"] for role in ROLES}
    with eng.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(select(api_keys))]
    eng.dispose()
    return keys, rows


@pytest.fixture(scope="session")
def verifier() -> KeyVerifier:
    """Shared by the test apps, as one worker's verifier is shared by its requests."""
    return KeyVerifier()


@pytest.fixture
def store(engine: Engine, settings: Settings, tmp_path: Path, key_rows: Any) -> Store:
    csv_path = tmp_path / "reviews.csv"
    doc_ids = populate(engine, csv_path)
    keys, rows = key_rows
    insert_keys(engine, rows)
    return Store(engine, settings, csv_path, doc_ids, dict(keys))


@pytest.fixture
def no_fit_client(
    engine: Engine, settings: Settings, tmp_path: Path, key_rows: Any, verifier: KeyVerifier
) -> Iterator[tuple[TestClient, dict[str, str]]]:
    """A store with accounts and scored texts but no risk snapshot; (client, role -> key)."""
    populate(engine, tmp_path / "reviews.csv", with_run=False)
    keys, rows = key_rows
    insert_keys(engine, rows)
    with TestClient(make_app(settings, verifier)) as c:
        yield c, keys


@pytest.fixture
def add_run(store: Store) -> Any:
    """``add_run(run_id)`` stores another snapshot, created after the first one."""

    def add(run_id: str) -> None:
        with store.engine.begin() as conn:
            insert_run(conn, run_id=run_id, created_at=datetime(2026, 11, 2))

    return add


@pytest.fixture
def app_factory(store: Store, verifier: KeyVerifier) -> Any:
    """``app_factory(**api_settings)`` -> a new app on the store (lifespan not started)."""
    return lambda **api: make_app(store.settings, verifier, **api)


@pytest.fixture
def app_client(store: Store, verifier: KeyVerifier) -> Iterator[tuple[FastAPI, TestClient]]:
    """The app with its lifespan running (engine on app.state) and a client on it."""
    app = make_app(store.settings, verifier)
    with TestClient(app) as c:
        yield app, c


@pytest.fixture
def client(app_client: tuple[FastAPI, TestClient]) -> TestClient:
    return app_client[1]


@pytest.fixture
def as_role(store: Store) -> Any:
    """``as_role("finance")`` -> the Authorization header of that role's key."""
    return lambda role: {"Authorization": f"Bearer {store.keys[role]}"}
