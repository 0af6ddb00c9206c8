"""`fit --as-of` is immune to the future: data dated after as_of never changes the snapshot."""

from __future__ import annotations

import hashlib
from datetime import date, datetime

import pandas as pd
from sqlalchemy import Engine, insert, select, update
from synthetic_world import SyntheticWorld

from api.commands.fitting import fit_summary
from ingest.db.schema import (
    accounts,
    documents,
    opportunities,
    risk_predictions,
    sentiment_scores,
    surveys,
)
from ingest.settings import Settings
from risk.fit import fit_and_store

AS_OF = date(2026, 3, 31)


def _snapshot(engine: Engine, run_id: str) -> pd.DataFrame:
    with engine.connect() as conn:
        rows = (
            conn.execute(select(risk_predictions).where(risk_predictions.c.run_id == run_id))
            .mappings()
            .all()
        )
    df = pd.DataFrame(rows).drop(columns=["run_id"]).sort_values("account_id")
    return df.reset_index(drop=True)


def _add_text(engine: Engine, account_id: str, when: datetime, sentiment: float, n: int) -> None:
    now = datetime(2026, 1, 1)
    with engine.begin() as conn:
        for i in range(n):
            text = f"future text {account_id} {when} {i}"
            h = hashlib.sha256(text.encode()).hexdigest()
            conn.execute(insert(documents).values(
                kind="ticket", source="test", source_id=h[:20], account_id=account_id,
                created_at=when, text=text, text_hash=h, content_hash=h, text_chars=len(text),
                truncated=False, source_file="t", source_line=1, row_hash="0" * 64,
            ))  # fmt: skip
            conn.execute(insert(sentiment_scores).values(
                text_hash=h, model_version="synthetic", p_negative=0.95, p_neutral=0.05,
                p_positive=0.0, sentiment=sentiment, n_chunks=1, scored_at=now,
            ))  # fmt: skip


def test_data_after_as_of_does_not_change_the_snapshot(
    engine: Engine, settings: Settings, stored_world: SyntheticWorld
) -> None:
    first = fit_summary(fit_and_store(engine, settings, as_of=AS_OF))
    before = _snapshot(engine, first["run_id"])
    active = before["account_id"].tolist()

    # the future arrives: angry tickets, a bad NPS, churn, an expansion deal, a new
    # customer, all after as_of
    _add_text(engine, active[0], datetime(2026, 4, 2, 9), -0.9, 20)
    with engine.begin() as conn:
        conn.execute(insert(surveys).values(
            source="test", response_id="future-1", account_id=active[1], submitted_at=datetime(2026, 4, 1, 0, 30),
            survey_type="nps", score=0.0, source_file="t", source_line=1, row_hash="0" * 64,
        ))  # fmt: skip
        conn.execute(
            update(accounts)
            .where(accounts.c.account_id == active[2])
            .values(churned_at=date(2026, 4, 1))
        )
        conn.execute(insert(opportunities).values(
            source="test", opportunity_id="future-opp", account_id=active[3], amount=9_000.0,
            created_at=datetime(2026, 4, 3, 10), closed_at=datetime(2026, 4, 20), is_won=True,
            source_file="t", source_line=1, row_hash="0" * 64,
        ))  # fmt: skip
        conn.execute(insert(accounts).values(
            account_id="NEW-1", name="New Co", name_norm="new co", segment="smb", arr=5000.0,
            currency="USD", contract_start=date(2026, 4, 15), source="test", source_file="t",
            source_line=1, row_hash="0" * 64, updated_at=datetime(2026, 4, 15),
        ))  # fmt: skip

    second = fit_summary(fit_and_store(engine, settings, as_of=AS_OF))
    assert second["run_id"] != first["run_id"]
    assert second["model_version"] == first["model_version"]
    assert second["accounts"] == first["accounts"]
    pd.testing.assert_frame_equal(_snapshot(engine, second["run_id"]), before)
    assert before["p_expand_180d"].notna().all()  # the expansion model is in the snapshot too


def test_the_same_data_before_as_of_does_change_it(
    engine: Engine, settings: Settings, stored_world: SyntheticWorld
) -> None:
    """The check above can fail: the same angry tickets dated before as_of move the forecast."""
    first = fit_summary(fit_and_store(engine, settings, as_of=AS_OF))
    before = _snapshot(engine, first["run_id"])
    target = before["account_id"].iloc[0]
    _add_text(engine, target, datetime(2026, 3, 20, 9), -0.9, 20)
    second = fit_summary(fit_and_store(engine, settings, as_of=AS_OF))
    after = _snapshot(engine, second["run_id"])
    assert second["model_version"] != first["model_version"]
    row_b = before.set_index("account_id").loc[target]
    row_a = after.set_index("account_id").loc[target]
    assert row_a["p_churn_90d"] > row_b["p_churn_90d"]
