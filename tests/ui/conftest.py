"""Fixtures of the role-view tests: a populated store, one key per role, the app.

``ui_world`` (session-scoped) writes a seeded, realistic store through its tables (the
interface between the layers): accounts, reviews and tickets pointing at the lines of
real CSV files, sentiment scores, attribution answers with channel labels of the current
classifier, opportunities, an earlier risk run whose forecasts were judged, and the
latest snapshot with predictions, drivers, monthly trajectories and back-test metrics.
Tests recompute what a page should show from ``World`` (the generated truth), never
from the code under test.
"""

from __future__ import annotations

import csv
import hashlib
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, insert

from api.app import create_app
from api.keys import ROLES, create_key
from api.settings import ApiSettings
from api.ui import mount_ui
from ingest.db.engine import open_store
from ingest.db.schema import (
    accounts,
    channel_labels,
    documents,
    forecast_ledger,
    opportunities,
    risk_predictions,
    risk_runs,
    risk_trajectories,
    sentiment_scores,
)
from ingest.settings import Settings

AS_OF = date(2026, 10, 31)
PREV_AS_OF = date(2026, 4, 30)
RUN_ID, PREV_RUN_ID = "run-current", "run-previous"
SENTIMENT_VERSION = "sentiment-ui-test-1"
MODEL_VERSION = "pem-v1-uitest"
SECRET = "ui-test-secret-" + "x" * 32
MONTHS = [date(2025, 9, 1) + timedelta(days=31 * i) for i in range(14)]
MONTHS = [m.replace(day=1) for m in MONTHS]
SEGMENTS = ("smb", "mid_market", "enterprise")
ARR = {"smb": 9_000.0, "mid_market": 48_000.0, "enterprise": 210_000.0}
NAMES = (
    "Harbor Analytics", "Summit Freight", "Cedar Health", "Lumen Robotics", "Atlas Payments",
    "Beacon Media", "Copper Labs", "Delta Foods", "Echo Software", "Frontier Energy",
    "Glacier Capital", "Horizon Retail", "Juniper Learning", "Keystone Security",
    "Meridian Travel", "Orbit Telecom", "Pioneer Pharma", "Quarry Manufacturing",
    "Ridge Consulting", "Sterling Marine", "Tidal Networks", "Union Studios", "Vantage Realty",
    "Willow Apparel", "Zenith Insurance", "Arbor Biotech", "Bay Logistics", "Crest Dynamics",
    "Dune Systems", "Ember Partners", "Fjord Analytics", "Grove Health",
    "Hale & <b>Sons</b>", "Indigo Labs", "Jade Software", "Kite Freight",
)  # fmt: skip
NEGATIVE = (
    "Support ignored our outage ticket for three days",
    "The export keeps timing out and our analysts are losing hours",
    "Billing charged us twice again, this is getting frustrating",
    "We are evaluating other vendors after the last release broke reporting",
    "Dashboards are slow and the sync fails every morning",
)
NEUTRAL = (
    "Asked how to add a new user to the workspace",
    "Could you send the invoice for last quarter",
    "Question about the API rate limits for the reporting endpoint",
)
POSITIVE = (
    "The new dashboards are fantastic, the whole team uses them daily",
    "Onboarding was smooth and support answered within the hour",
    "Reports that took a day now take minutes, great release",
    "We are rolling it out to two more departments next quarter",
)
FEATURES = ("reports", "exports", "billing", "SSO", "alerts", "the API", "dashboards")
ANSWERS = {
    "peer_referral": "A colleague at my previous company recommended you",
    "community": "Saw people praising it in a Slack community for data teams",
    "podcast": "Heard the founder on a podcast",
    "ai_assistant": "ChatGPT suggested it when I asked for tools",
    "social": "A LinkedIn post from one of your customers",
    "search": "Googled for churn analytics software",
    "review_site": "Compared options on G2",
    "event": "Met your team at a conference booth",
    "other": "Not sure, don't remember",
}
TRACKED = ("direct", "organic_search", "paid_search", "review_site", "event", "referral", "email")


@dataclass
class Account:
    account_id: str
    name: str
    segment: str
    arr: float
    churned_at: date | None
    tracked_source: str
    sentiment: float = 0.0
    trend: float = 0.0
    p: dict[int, float] = field(default_factory=dict)
    answer_channel: str | None = None


@dataclass
class World:
    """What was written, for tests to recompute expectations."""

    accounts: list[Account]
    documents: list[dict[str, Any]]  # id, account_id, kind, created_at, text, sentiment, file, line
    judged: list[dict[str, Any]]  # the previous run's ledger rows (horizon, p, outcome)
    calibration: list[dict[str, Any]]
    files: dict[str, Path]

    @property
    def active(self) -> list[Account]:
        return [a for a in self.accounts if a.churned_at is None]

    def account(self, account_id: str) -> Account:
        return next(a for a in self.accounts if a.account_id == account_id)


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def _text(rng: np.random.Generator, sentiment: float, i: int) -> str:
    bank = NEGATIVE if sentiment < -0.2 else POSITIVE if sentiment > 0.25 else NEUTRAL
    return f"{bank[int(rng.integers(len(bank)))]} ({FEATURES[i % len(FEATURES)]}, note {i})."


def build_world(engine: Engine, out_dir: Path, seed: int = 11) -> World:
    """Write the store described in the module docstring; returns its truth."""
    from nlp.channels.classify import current_model_version

    rng = np.random.default_rng(seed)
    now = datetime(2026, 11, 1, 2)
    accts: list[Account] = []
    for i, name in enumerate(NAMES):
        seg = SEGMENTS[i % 3]
        churned = date(2026, 2 + i % 5, 15) if i % 9 == 4 else None
        accts.append(
            Account(
                account_id=f"ACC-{i + 1:03d}",
                name=name,
                segment=seg,
                arr=round(ARR[seg] * float(rng.lognormal(0, 0.35)), -2),
                churned_at=churned,
                tracked_source=TRACKED[i % len(TRACKED)],
            )
        )
    docs: list[dict[str, Any]] = []
    monthly: dict[tuple[str, date], list[float]] = {}
    for a in accts:
        level, drift = float(rng.uniform(-0.3, 0.6)), float(rng.normal(0, 0.07))
        for k, month in enumerate(MONTHS):
            if a.churned_at and month > a.churned_at:
                break
            for j in range(2 if k >= len(MONTHS) - 4 else 1):
                s = float(np.clip(level + drift * k + rng.normal(0, 0.12), -0.95, 0.95))
                created = datetime.combine(month, datetime.min.time()) + timedelta(
                    days=int(rng.integers(0, 27)), hours=9 + j
                )
                docs.append({"account_id": a.account_id, "kind": "review" if j == 0 and k % 3 == 0 else "ticket",
                             "created_at": created, "sentiment": round(s, 4),
                             "text": _text(rng, s, len(docs))})  # fmt: skip
                monthly.setdefault((a.account_id, month), []).append(s)
    files = {
        "review": out_dir / "reviews.csv",
        "ticket": out_dir / "tickets.csv",
        "attribution": out_dir / "attribution.csv",
    }
    for kind, path in files.items():
        if kind == "attribution":
            continue
        with path.open("w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow([f"{kind}_id", "account_id", "created_at", "body"])
            line = 1
            for d in docs:
                if d["kind"] == kind:
                    line += 1
                    d["source_id"], d["file"], d["line"] = (
                        f"{kind[0].upper()}{line}",
                        str(path),
                        line,
                    )
                    w.writerow(
                        [d["source_id"], d["account_id"], d["created_at"].isoformat(), d["text"]]
                    )
    channel_version = current_model_version()
    answers = []
    for i, a in enumerate(accts[:30]):
        a.answer_channel = list(ANSWERS)[int(rng.integers(len(ANSWERS)))]
        answers.append((a, datetime(2026, 1 + i % 10, 3 + i % 20, 10)))
    with files["attribution"].open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["response_id", "account_id", "submitted_at", "answer"])
        for i, (a, when) in enumerate(answers):
            w.writerow([f"AT{i}", a.account_id, when.isoformat(), ANSWERS[a.answer_channel]])

    with engine.begin() as conn:
        for i, a in enumerate(accts):
            conn.execute(insert(accounts).values(
                account_id=a.account_id, name=a.name, name_norm=a.name.lower(), domain=f"{a.account_id.lower()}.example",
                segment=a.segment, arr=a.arr, currency="USD", contract_start=date(2024, 1 + i % 12, 1),
                churned_at=a.churned_at, tracked_source=a.tracked_source, source="csv",
                source_file=str(out_dir / "accounts.csv"), source_line=i + 2, row_hash=f"acc{i}", updated_at=now,
            ))  # fmt: skip
        scored: set[str] = set()
        for i, d in enumerate(docs):
            h = hashlib.sha256(d["text"].encode()).hexdigest()
            d["id"] = conn.execute(insert(documents).values(
                kind=d["kind"], source="csv", source_id=d["source_id"], account_id=d["account_id"],
                resolved_by="account_id", created_at=d["created_at"], title=None, text=d["text"], text_hash=h,
                content_hash=f"c{i}", text_chars=len(d["text"]), truncated=False, rating=None,
                source_file=d["file"], source_line=d["line"], row_hash=f"r{i}",
            )).inserted_primary_key[0]  # fmt: skip
            if h not in scored:
                scored.add(h)
                s = d["sentiment"]
                conn.execute(insert(sentiment_scores).values(
                    text_hash=h, model_version=SENTIMENT_VERSION, p_negative=max(0.0, -s), p_neutral=1 - abs(s),
                    p_positive=max(0.0, s), sentiment=s, n_chunks=1, scored_at=now,
                ))  # fmt: skip
        for i, (a, when) in enumerate(answers):
            text = ANSWERS[a.answer_channel]
            doc_id = conn.execute(insert(documents).values(
                kind="attribution", source="csv", source_id=f"AT{i}", account_id=a.account_id, resolved_by="account_id",
                created_at=when, text=text, text_hash=hashlib.sha256(text.encode()).hexdigest(), content_hash=f"at{i}",
                text_chars=len(text), truncated=False, attrs={"question": "How did you hear about us?"},
                source_file=str(files["attribution"]), source_line=i + 2, row_hash=f"at{i}",
            )).inserted_primary_key[0]  # fmt: skip
            conn.execute(insert(channel_labels).values(
                document_id=doc_id, model_version=channel_version, channel=a.answer_channel, weight=1.0,
                confidence=0.9, method="rule:test",
            ))  # fmt: skip
            conn.execute(insert(opportunities).values(
                source="csv", opportunity_id=f"OP{i}", account_id=a.account_id, created_at=when,
                amount=round(a.arr * 0.5, -2), stage="proposal", is_won=None, tracked_source=a.tracked_source,
                source_file="opportunities.csv", source_line=i + 2, row_hash=f"op{i}",
            ))  # fmt: skip

        # the earlier run: only its ledger matters (judged by the current run)
        conn.execute(insert(risk_runs).values(
            run_id=PREV_RUN_ID, as_of=PREV_AS_OF, created_at=datetime(2026, 5, 1), model_version="pem-v1-old",
            sentiment_model_version=SENTIMENT_VERSION, status="complete", n_accounts=len(accts), params={}, metrics={},
        ))  # fmt: skip
        judged = []
        for a in accts:
            for h in (90, 180):
                p = round(float(rng.uniform(0.02, 0.5)), 4)
                outcome = a.churned_at is not None and a.churned_at <= PREV_AS_OF + timedelta(
                    days=h
                )
                judged.append({"horizon_days": h, "p": p, "outcome": outcome})
                conn.execute(insert(forecast_ledger).values(
                    run_id=PREV_RUN_ID, account_id=a.account_id, horizon_days=h, as_of=PREV_AS_OF,
                    due=PREV_AS_OF + timedelta(days=h), p_churn=p, outcome=outcome, judged_in_run=RUN_ID,
                ))  # fmt: skip

        calibration = [
            {"decile": k + 1, "predicted": round(0.02 + 0.05 * k, 4), "observed": round(max(0.0, 0.02 + 0.05 * k + float(rng.normal(0, 0.02))), 4), "accounts": 40}
            for k in range(10)
        ]  # fmt: skip
        model_metrics = {
            "full": {"c_index": 0.78, "integrated_brier": 0.061, "ici": 0.018, "expected": 41.2, "observed": 44, "lead_time_days": 97.0, "calibration": calibration},
            "no_text": {"c_index": 0.66, "integrated_brier": 0.072, "ici": 0.031, "expected": 38.0, "observed": 44, "lead_time_days": 41.0, "calibration": [dict(c, observed=round(c["observed"] * 0.8 + 0.02, 4)) for c in calibration]},
            "crm_only": {"c_index": 0.58, "integrated_brier": 0.079, "ici": 0.044, "expected": 35.5, "observed": 44, "lead_time_days": None, "calibration": []},
        }  # fmt: skip
        conn.execute(insert(risk_runs).values(
            run_id=RUN_ID, as_of=AS_OF, created_at=now, model_version=MODEL_VERSION,
            sentiment_model_version=SENTIMENT_VERSION, status="complete", n_accounts=len(accts),
            params={"discount_rate": 0.1},
            metrics={"c_index": 0.78, "integrated_brier": 0.061, "auc_180d": 0.81,
                     "backtest": {"horizon_days": 180, "origins": ["2025-10-31", "2026-01-31", "2026-04-30"], "models": model_metrics}},
        ))  # fmt: skip
        for a in accts:
            series = [(m, monthly.get((a.account_id, m))) for m in MONTHS]
            if a.churned_at is not None:
                continue
            values = [float(np.mean(v)) for _, v in series if v]
            a.sentiment = round(float(np.mean(values[-3:])), 4)
            a.trend = round(values[-1] - values[-4], 4)
            for h, base in ((90, -2.6), (180, -2.0), (365, -1.4)):
                a.p[h] = round(_sigmoid(base - 4.0 * a.trend - 1.2 * a.sentiment), 4)
            drivers = [
                {"feature": "sentiment_trend", "value": a.trend, "effect": round(-2.4 * a.trend, 4), "text": f"sentiment moved {a.trend:+.2f} over 90 days"},
                {"feature": "sentiment_level", "value": a.sentiment, "effect": round(-1.1 * a.sentiment, 4), "text": f"recent sentiment {a.sentiment:+.2f}"},
                {"feature": "tickets_90d", "value": 4.0, "effect": 0.08, "text": "4 tickets in 90 days"},
            ]  # fmt: skip
            top = max(drivers, key=lambda d: abs(d["effect"]))
            conn.execute(insert(risk_predictions).values(
                run_id=RUN_ID, account_id=a.account_id, arr=a.arr, segment=a.segment, sentiment=a.sentiment,
                sentiment_trend=a.trend, p_churn_90d=a.p[90], p_churn_90d_low=a.p[90] * 0.6, p_churn_90d_high=min(1.0, a.p[90] * 1.5),
                p_churn_180d=a.p[180], p_churn_180d_low=a.p[180] * 0.6, p_churn_180d_high=min(1.0, a.p[180] * 1.5),
                p_churn_365d=a.p[365], p_churn_365d_low=a.p[365] * 0.6, p_churn_365d_high=min(1.0, a.p[365] * 1.5),
                expected_ltv=a.arr * 3.2 * (1 - a.p[365]), reason=f"Mainly: {top['text']}.", drivers=drivers,
            ))  # fmt: skip
            for m, v in series:
                conn.execute(insert(risk_trajectories).values(
                    run_id=RUN_ID, account_id=a.account_id, month=m,
                    sentiment=None if not v else round(float(np.mean(v)), 4), n_texts=len(v or []),
                ))  # fmt: skip
            conn.execute(insert(forecast_ledger), [
                {"run_id": RUN_ID, "account_id": a.account_id, "horizon_days": h, "as_of": AS_OF,
                 "due": AS_OF + timedelta(days=h), "p_churn": a.p[h], "outcome": None} for h in (90, 180, 365)
            ])  # fmt: skip
    return World(accts, docs, judged, calibration, files)


@dataclass
class UiStore:
    settings: Settings
    engine: Engine
    world: World
    keys: dict[str, str]


def make_ui_app(settings: Settings) -> FastAPI:
    """The app as the lead wires it: create_app, then mount_ui."""
    app = create_app(settings, ApiSettings(rate_limit_per_second=0, access_log=False))
    return mount_ui(app, secret=SECRET)


@pytest.fixture(scope="session")
def ui_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UiStore]:
    root = tmp_path_factory.mktemp("ui_store")
    settings = Settings(database_url=f"sqlite:///{root / 'undertow.db'}", data_dir=root / "data")
    engine = open_store(settings)
    world = build_world(engine, root)
    keys = {role: create_key(engine, role, name=f"ui {role}")["key"] for role in ROLES}
    yield UiStore(settings, engine, world, keys)
    engine.dispose()


@pytest.fixture(scope="session")
def ui_app(ui_store: UiStore) -> Iterator[tuple[FastAPI, TestClient]]:
    app = make_ui_app(ui_store.settings)
    with TestClient(app, base_url="http://testserver") as c:
        yield app, c


@pytest.fixture
def ui_client(ui_app: tuple[FastAPI, TestClient]) -> Iterator[TestClient]:
    """A client on the shared app with a fresh cookie jar and a fresh sign-in budget (the
    shared app's budget of 20 per client address, earned back at 1/s, ran out when the
    session's tests signed in faster than that: an error that came and went with the load)."""
    from api.ratelimit import TokenBucketLimiter

    limiter = ui_app[0].state.ui.login_limiter
    ui_app[0].state.ui.login_limiter = TokenBucketLimiter(limiter.rate, limiter.burst)
    client = ui_app[1]
    client.cookies.clear()
    yield client
    client.cookies.clear()


def sign_in(client: TestClient, key: str, next_path: str = "") -> Any:
    """Sign in through the form as a browser would; returns the POST response."""
    import re

    page = client.get("/ui/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token, "the login form carries a CSRF token"
    return client.post(
        "/ui/login",
        data={"key": key, "csrf_token": token.group(1), "next": next_path},
        follow_redirects=False,
    )
