"""The monthly panel: no leakage, left truncation, accounts without texts still scored."""

from __future__ import annotations

import numpy as np
import pandas as pd
from synthetic_world import SyntheticWorld

from risk.trajectories import build_panel


def test_features_of_a_period_use_only_texts_before_it(world: SyntheticWorld) -> None:
    """Make ten accounts' texts of one month furious: their rows up to that month must not
    move (population constants such as kind means move by ~1e-4 only), the next month's must."""
    inp = world.inputs
    base = build_panel(inp)
    month = pd.Timestamp("2025-12-01")
    texts = inp.texts.copy()
    in_month = (texts["created_at"] >= month) & (
        texts["created_at"] < month + pd.DateOffset(months=1)
    )
    chosen = texts.loc[in_month, "account_id"].drop_duplicates().iloc[:10]
    hit = in_month & texts["account_id"].isin(chosen)
    texts.loc[hit, "sentiment"] = -1.0
    texts.loc[hit, "p_negative"] = 1.0
    changed = build_panel(type(inp)(inp.as_of, inp.accounts, texts, inp.surveys, inp.aspects))
    cols = ["sentiment_level", "sentiment_change", "negative_share", "sentiment_volatility"]
    a = base.rows.set_index(["account_id", "period_start"])
    b = changed.rows.set_index(["account_id", "period_start"])
    acc = a.index.get_level_values("account_id").isin(chosen)
    upto = acc & (a.index.get_level_values("period_start") <= month)
    assert upto.sum() >= 10
    np.testing.assert_allclose(a.loc[upto, cols], b.loc[upto, cols], atol=5e-3)
    later = acc & (a.index.get_level_values("period_start") == month + pd.DateOffset(months=1))
    assert (b.loc[later, "sentiment_level"] < a.loc[later, "sentiment_level"] - 0.01).all()


def test_left_truncation_enters_old_accounts_with_their_true_tenure(world: SyntheticWorld) -> None:
    panel = build_panel(world.inputs)
    first = panel.rows.groupby("account_id")["tenure"].min()
    started = world.inputs.accounts.set_index("account_id")["contract_start"]
    old = started[started < panel.boundaries[0] - pd.DateOffset(months=12)].index
    assert len(old) > 0
    assert (first.reindex(old).dropna() > 12).all()
    assert panel.rows["period_start"].min() >= panel.boundaries[0]


def test_accounts_without_texts_are_scored_as_neutral(world: SyntheticWorld) -> None:
    inp = world.inputs
    silent = inp.accounts.loc[inp.accounts["churned_at"].isna(), "account_id"].iloc[:5]
    texts = inp.texts[~inp.texts["account_id"].isin(silent)]
    panel = build_panel(type(inp)(inp.as_of, inp.accounts, texts, inp.surveys, inp.aspects))
    cur = panel.current.set_index("account_id").loc[silent]
    assert np.allclose(cur["sentiment_level"], 0.0)
    assert cur["sentiment"].isna().all()  # the display value says "no texts", not a made-up 0


def test_churn_events_and_exposure(world: SyntheticWorld) -> None:
    panel = build_panel(world.inputs)
    churned = world.inputs.accounts.dropna(subset=["churned_at"])
    in_panel = churned[churned["churned_at"] >= panel.rows["period_start"].min()]
    events = panel.rows.loc[panel.rows["event"] == 1, "account_id"]
    assert set(events) <= set(in_panel["account_id"])
    assert events.is_unique
    assert (panel.rows["exposure"] > 0).all() and (panel.rows["exposure"] <= 1.02).all()
    assert not panel.current["account_id"].isin(churned["account_id"]).any()
