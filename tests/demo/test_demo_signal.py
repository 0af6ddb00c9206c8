"""Does the demo world carry the signal the risk issue needs?

A plain logistic regression of churn within 180 days after a cut date, on features of
the 90 days before it, with and without the texts' tone. The world must let text add
information beyond NPS scores, ticket counts, CSAT and ratings (the risk issue asks a
real model for >= 0.03 AUC from text and >= 0.80 overall), so the tone must lift AUC here.

Run ``python tests/demo/test_demo_signal.py`` to print the figures for several seeds.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from ingest.demo import build_world
from ingest.demo.texts import tone_of

END = date(2025, 6, 30)


def _dates(frame: pd.DataFrame, col: str) -> pd.Series:
    return pd.to_datetime(frame[col].str[:10])


def features(world, cut: date, text: str = "tone") -> tuple[pd.DataFrame, np.ndarray]:  # type: ignore[no-untyped-def]
    """Per account alive at ``cut``: last-90-day features and churn within 180 days."""
    acc, truth = world["accounts"], world["truth"].set_index("account_id")
    cut_ts, start = pd.Timestamp(cut), pd.Timestamp(cut - timedelta(days=90))
    churn = pd.to_datetime(truth["churned_at_true"].replace("", None))
    signed = pd.to_datetime(acc.set_index("account_id")["contract_start"])
    alive = signed.index[
        (signed <= cut_ts) & ~(churn <= cut_ts).reindex(signed.index).fillna(False)
    ]
    y = ((churn > cut_ts) & (churn <= cut_ts + pd.Timedelta(days=180))).reindex(alive).to_numpy()
    email_to_acc = {}
    for a in acc.itertuples():
        email_to_acc[a.domain] = a.account_id

    def window(frame: pd.DataFrame, col: str) -> pd.DataFrame:
        d = _dates(frame, col)
        out = frame[(d > start) & (d <= cut_ts)].copy()
        ids = out["account_id"].fillna("")
        email_col = "requester_email" if "requester_email" in out else "respondent_email"
        if email_col in out:
            by_mail = out[email_col].str.split("@").str[1].map(email_to_acc)
            ids = ids.where(ids != "", by_mail)
        out["aid"] = ids
        return out

    tickets, surveys = (
        window(world["tickets"], "created_at"),
        window(world["surveys"], "submitted_at"),
    )
    reviews = world["reviews"].copy()
    reviews = reviews[
        (_dates(reviews, "published_at") > start) & (_dates(reviews, "published_at") <= cut_ts)
    ]
    reviews["aid"] = reviews["account_id"]
    x = pd.DataFrame(index=alive)
    x["tickets"] = np.log1p(tickets.groupby("aid").size().reindex(alive).fillna(0))
    nps = surveys.groupby("aid")["score"].mean().reindex(alive)
    x["nps"], x["nps_missing"] = nps.fillna(nps.mean()), nps.isna().astype(float)
    csat = tickets.groupby("aid")["csat"].mean().reindex(alive)
    x["csat"], x["csat_missing"] = csat.fillna(csat.mean()), csat.isna().astype(float)
    rating = reviews.groupby("aid")["rating"].mean().reindex(alive)
    x["rating"] = rating.fillna(rating.mean() if rating.notna().any() else 3.0)
    x["log_arr"] = np.log(acc.set_index("account_id")["arr"].reindex(alive))
    x["tenure"] = (cut_ts - signed.reindex(alive)).dt.days / 365.0
    for seg in ("mid_market", "enterprise"):
        x[seg] = (truth["segment"].reindex(alive) == seg).astype(float)
    if text:
        docs = pd.concat([tickets[["aid", "_valence", "body"]],
                          surveys.loc[surveys["comment"] != "", ["aid", "_valence", "comment"]]
                          .rename(columns={"comment": "body"})])  # fmt: skip
        if text == "tone":
            docs["s"] = docs["_valence"].map(lambda v: {"neg": -1, "neu": 0, "pos": 1}[tone_of(v)])
        else:
            from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

            vader = SentimentIntensityAnalyzer()
            docs["s"] = docs["body"].map(lambda b: vader.polarity_scores(b)["compound"])
        s = docs.groupby("aid")["s"].mean().reindex(alive)
        x["text"], x["text_missing"] = s.fillna(s.mean()), s.isna().astype(float)
        x["neg_share"] = (
            docs.assign(n=docs["s"] < -0.3).groupby("aid")["n"].mean().reindex(alive).fillna(0)
        )
    return x, y


def cv_auc(x: pd.DataFrame, y: np.ndarray, seed: int = 0) -> float:
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    model = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=1000))
    folds = StratifiedKFold(5, shuffle=True, random_state=seed)
    p = cross_val_predict(model, x.to_numpy(), y, cv=folds, method="predict_proba")[:, 1]
    return float(roc_auc_score(y, p))


def lift(world, cuts: list[date], text: str = "tone") -> tuple[float, float, int]:  # type: ignore[no-untyped-def]
    """Pooled over cut dates: (AUC without text, AUC with text, churn events)."""
    xs, ys, xt = [], [], []
    for cut in cuts:
        x, y = features(world, cut, text)
        xs.append(x.drop(columns=["text", "text_missing", "neg_share"]))
        xt.append(x)
        ys.append(y)
    y = np.concatenate(ys)
    return cv_auc(pd.concat(xs), y), cv_auc(pd.concat(xt), y), int(y.sum())


CUTS = [END, END - timedelta(days=91), END - timedelta(days=182)]


@pytest.mark.slow
def test_text_tone_adds_information_beyond_the_numbers() -> None:
    world = build_world(accounts=400, months=24, seed=7, end=END)
    no_text, with_text, events = lift(world, CUTS)
    assert events >= 40
    assert with_text >= 0.80
    assert with_text - no_text >= 0.03


if __name__ == "__main__":
    for seed in (7, 8, 11, 23):
        w = build_world(accounts=400, months=24, seed=seed, end=END)
        for kind in ("tone", "vader"):
            a, b, n = lift(w, CUTS, kind)
            print(f"seed {seed} {kind:5s}: AUC no-text {a:.3f} with text {b:.3f} "
                  f"lift {b - a:+.3f} (events {n}, documents {w.documents})")  # fmt: skip
