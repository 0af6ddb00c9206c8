"""The monthly panel: no leakage, left truncation, accounts without texts still scored."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
from synthetic_world import SyntheticWorld

from risk.inputs import RiskInputs
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


def _trend_world(seed: int = 3) -> RiskInputs:
    """30 accounts with 15 texts in each 90-day window and true changes of +-0.3, and
    'ONE', whose only two texts (one a window) say +0.6, then -0.6: a raw change of -1.2."""
    rng = np.random.default_rng(seed)
    as_of = pd.Timestamp("2026-06-30")
    ids = [f"A{i:02d}" for i in range(30)] + ["ONE"]
    rows = []
    for i, a in enumerate(ids[:-1]):
        change = 0.3 if i % 2 else -0.3
        for w, shift in ((0, 0.0), (1, change)):
            for k in range(15):
                day = as_of - pd.Timedelta(days=int(175 - 90 * w - 5 * k))
                rows.append((a, day, float(np.clip(shift + rng.normal(0, 0.3), -1, 1))))
    rows += [
        ("ONE", as_of - pd.Timedelta(days=150), 0.6),
        ("ONE", as_of - pd.Timedelta(days=10), -0.6),
    ]
    texts = pd.DataFrame(rows, columns=["account_id", "created_at", "sentiment"])
    texts = texts.assign(kind="review", rating=np.nan, text_hash=[f"h{i}" for i in range(len(texts))],
                         p_negative=0.1)  # fmt: skip
    acc = pd.DataFrame({"account_id": ids, "name": ids, "segment": "smb", "arr": 1000.0,
                        "contract_start": pd.Timestamp("2024-01-01"), "churned_at": pd.NaT})  # fmt: skip
    empty_sv = pd.DataFrame(columns=["account_id", "submitted_at", "survey_type", "score"])
    empty_asp = pd.DataFrame(columns=["account_id", "created_at", "aspect", "sentiment"])
    return RiskInputs(as_of, acc, texts, empty_sv.astype({"submitted_at": "datetime64[ns]"}),
                      empty_asp.astype({"created_at": "datetime64[ns]"}))  # fmt: skip


def test_a_trend_from_two_texts_is_shrunk_one_from_many_is_kept() -> None:
    cur = build_panel(_trend_world()).current.set_index("account_id")
    many = cur.drop(index="ONE")
    # many texts: the measured change (about +-0.3) is mostly kept and marked confident
    assert (many["trend_weight"] > 0.7).all()
    signs = np.where([int(a[1:]) % 2 for a in many.index], 1, -1)
    assert (np.sign(many["sentiment_trend"]) == signs).mean() >= 0.9
    assert 0.2 < many["sentiment_trend"].abs().mean() < 0.4
    assert (many["texts_90d"] == 15).all()
    # one text a window: a raw change of -1.2 becomes a small one, never a confident -1.2
    one = cur.loc["ONE"]
    assert one["texts_90d"] == 1 and one["trend_weight"] < 0.5
    assert -0.6 < one["sentiment_trend"] < 0  # half the raw -1.2 at most


def test_no_texts_in_a_window_means_no_trend() -> None:
    inputs = _trend_world()
    texts = inputs.texts[~((inputs.texts["account_id"] == "A01")
                           & (inputs.texts["created_at"] < inputs.as_of - pd.Timedelta(days=89)))]  # fmt: skip
    cur = build_panel(replace(inputs, texts=texts)).current.set_index("account_id")
    assert cur.at["A01", "sentiment_trend"] == 0.0 and cur.at["A01", "trend_weight"] == 0.0
    assert cur.at["A01", "texts_90d"] == 15 and not np.isnan(cur.at["A01", "sentiment"])
