"""The store reads the media-mix model and the forecast build on: weekly outcome and
spend, and answers linked to opportunities (by account, prospect id or e-mail)."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from sqlalchemy import Engine

from ingest.pipeline import ingest_records
from ingest.settings import Settings
from marketing.errors import MarketingInputError
from marketing.links import ANSWER_LINK_COLUMNS, answers_by_opportunity
from marketing.weekly import weekly_outcome, weekly_spend


def test_weekly_pipeline_counts_every_opportunity_by_its_created_week(
    revenue_world: Engine,
) -> None:
    out = weekly_outcome(revenue_world, "pipeline", date(2025, 1, 1), date(2025, 2, 3))
    assert list(out.columns) == ["week", "value"]
    # Mondays in the period: the week of Monday 2024-12-30 starts before it and is left out
    assert out["week"].tolist() == [date(2025, 1, 6), date(2025, 1, 13), date(2025, 1, 20),
                                    date(2025, 1, 27), date(2025, 2, 3)]  # fmt: skip
    # O4 (a prospect's, 01-20) and O1 (01-25) in the week of 01-20; O2 (02-01) in 01-27's
    assert out["value"].tolist() == [0.0, 0.0, 30_000.0, 50_000.0, 0.0]
    whole = weekly_outcome(revenue_world, "pipeline")
    assert whole["value"].sum() == 94_000.0  # every stored opportunity, prospects' too
    assert whole["week"].iloc[0] == date(2024, 10, 28) and len(set(whole["week"])) == len(whole)
    opps = weekly_outcome(revenue_world, "opportunities")
    assert opps["value"].sum() == 6 and (opps["value"] >= 0).all()
    leads = weekly_outcome(revenue_world, "leads", date(2025, 1, 6), date(2025, 1, 6))
    # L2 (Monday), L3, L4; L1 (Sunday 01-05) belongs to the week before
    assert leads.to_dict("records") == [{"week": date(2025, 1, 6), "value": 3.0}]
    with pytest.raises(MarketingInputError, match="outcome must be one of"):
        weekly_outcome(revenue_world, "revenue")  # type: ignore[arg-type]


def test_weekly_outcome_of_an_empty_store(engine: Engine) -> None:
    assert weekly_outcome(engine).empty
    span = weekly_outcome(engine, "leads", date(2025, 1, 1), date(2025, 1, 31))
    assert span["value"].tolist() == [0.0] * 4


def test_weekly_spend_per_channel_and_currency(engine: Engine, settings: Settings) -> None:
    rows = [
        {"date": "2025-03-03", "channel": "paid_ads", "spend": 100, "impressions": 1000},
        {"date": "2025-03-05", "channel": "paid_ads", "spend": 50, "campaign": "brand"},
        {"date": "2025-03-17", "channel": "event", "spend": 70},
        {"date": "2025-03-17", "channel": "event", "spend": 30, "currency": "EUR"},
    ]
    ingest_records(engine, "spend", rows, settings=settings)
    with pytest.raises(MarketingInputError, match="several currencies \\(EUR, USD\\)"):
        weekly_spend(engine)
    out = weekly_spend(engine, currency="usd")
    assert list(out.columns) == ["week", "channel", "spend", "impressions", "clicks"]
    got = {(r.week, r.channel): r.spend for r in out.itertuples()}
    assert got == {
        (date(2025, 3, 3), "event"): 0.0, (date(2025, 3, 3), "paid_ads"): 150.0,
        (date(2025, 3, 10), "event"): 0.0, (date(2025, 3, 10), "paid_ads"): 0.0,
        (date(2025, 3, 17), "event"): 70.0, (date(2025, 3, 17), "paid_ads"): 0.0,
    }  # fmt: skip
    first = out[(out["week"] == date(2025, 3, 3)) & (out["channel"] == "paid_ads")].iloc[0]
    assert first["impressions"] == 1000.0 and pd.isna(first["clicks"])


def test_answers_link_by_account_prospect_id_and_email(
    revenue_world: Engine, settings: Settings
) -> None:
    answers = [
        # A1's answer: O1, O6 (the account's opportunities)
        {"response_id": "r1", "account_id": "A1", "submitted_at": "2025-01-04",
         "answer": "a podcast"},
        # the prospect P-4 by the id it gave: O4 (stored unresolved)
        {"response_id": "r2", "account_id": "P-4", "submitted_at": "2025-01-12",
         "answer": "a friend"},
        # by e-mail: lead L9 of the same address became O5 (a prospect's)
        {"response_id": "r3", "respondent_email": "Dana@Five.example",
         "submitted_at": "2025-03-02", "answer": "ChatGPT"},
        {"response_id": "r4", "respondent_email": "nobody@else.example",
         "submitted_at": "2025-03-03", "answer": "Google"},
        {"response_id": "r5", "account_id": "A2", "submitted_at": "2026-01-01", "answer": "G2"},
    ]  # fmt: skip
    ingest_records(revenue_world, "attribution", answers, settings=settings)
    lead = {"lead_id": "L9", "email": "dana@five.example", "created_at": "2025-03-01",
            "opportunity_id": "O5"}  # fmt: skip
    ingest_records(revenue_world, "leads", [lead], settings=settings)
    out = answers_by_opportunity(revenue_world, date(2025, 1, 1), date(2025, 12, 31))
    assert list(out.columns) == ANSWER_LINK_COLUMNS
    got = {(r.response_id, r.opportunity_id): r.link for r in out.itertuples()}
    assert got == {
        ("r1", "O1"): "account", ("r1", "O6"): "account", ("r2", "O4"): "account",
        ("r3", "O5"): "email", ("r4", None): None,
    }  # fmt: skip
    r2 = out[out["response_id"] == "r2"].iloc[0]
    assert (r2["party"], r2["answer_account_id"], r2["opportunity_resolved"]) == (
        "P-4",
        None,
        False,
    )
    assert r2["tracked_channel"] == "event"  # O4's source is its lead's (webinar)
    assert r2["days_answer_to_opportunity"] == 8.0
    r1 = out[out["opportunity_id"] == "O1"].iloc[0]
    assert (r1["party"], r1["opportunity_resolved"], r1["amount"]) == ("A1", True, 10_000.0)
    assert out[out["response_id"] == "r3"].iloc[0]["party"].startswith("email:")
    assert len(answers_by_opportunity(revenue_world)) == 7  # and r5 (A2: O2, O7): no period
    with pytest.raises(MarketingInputError):
        answers_by_opportunity(revenue_world, date(2025, 2, 1), date(2025, 1, 1))


def test_answers_by_opportunity_of_an_empty_store(engine: Engine) -> None:
    out = answers_by_opportunity(engine)
    assert out.empty and list(out.columns) == ANSWER_LINK_COLUMNS
