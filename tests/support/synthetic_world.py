"""A synthetic account world with a known truth, for tests and benchmarks of the risk layer
(test support, not part of the product: `tests/support` is on pytest's path, and the
benchmarks add it to theirs).

Not the product's demo world (that is ``ingest.demo``): a small, fast generator whose
mechanics are stated here so tests can check that the survival model recovers them.
Each account has a latent health that follows an AR(1) walk month by month; texts carry
a noisy reading of it (sentiment), unhealthy accounts open more tickets and give lower
NPS, and the monthly churn hazard rises as health falls. Existing accounts open
expansion opportunities at a monthly rate that rises with health and ARR (from a random
stream of their own, so adding them changed no other draw); every account also has its
initial deal, created before its contract start. The world runs on for
``future_months`` after ``as_of`` so forecasts can be judged against churn and
expansions the data has not seen yet (``truth['churned_at_true']``,
``truth['expanded_at_true']``: the first expansion after ``as_of``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import Engine, insert

from ingest.db.schema import accounts, documents, opportunities, sentiment_scores, surveys
from risk.inputs import RiskInputs

SEGMENTS = ("smb", "mid_market", "enterprise")
SEGMENT_HAZARD = {"smb": 0.35, "mid_market": 0.0, "enterprise": -0.5}
ARR_MEDIAN = {"smb": 9_000.0, "mid_market": 48_000.0, "enterprise": 210_000.0}
EXPANSION_LOGIT = -3.9  # monthly, at health 0 and the segment's median ARR
EXPANSION_HEALTH, EXPANSION_SIZE = 1.0, 0.4


@dataclass(frozen=True)
class SyntheticWorld:
    inputs: RiskInputs
    truth: pd.DataFrame  # account_id, segment, arr, churned_at_true, health_end

    def write_truth(self, path: Path, expansions: bool = True) -> None:
        """The truth as ``undertow eval churn|signals --truth`` reads it (ISO dates)."""
        t = self.truth.copy()
        for col in ("churned_at_true", "expanded_at_true"):
            if col in t:
                t[col] = pd.to_datetime(t[col]).dt.strftime("%Y-%m-%d").fillna("")
        if not expansions:
            t = t.drop(columns=["expanded_at_true"], errors="ignore")
        t.to_csv(path, index=False)


def make_world(
    n_accounts: int = 400,
    months: int = 24,
    *,
    seed: int = 0,
    as_of: str = "2026-10-31",
    future_months: int = 12,
    texts_per_month: float = 1.2,
    text_signal: float = 1.0,
) -> SyntheticWorld:
    """Build accounts, texts (with sentiment), surveys and the latent truth."""
    rng = np.random.default_rng(seed)
    as_of_ts = pd.Timestamp(as_of)
    data_start = (as_of_ts - pd.DateOffset(months=months - 1)).to_period("M").to_timestamp()
    total = months + future_months
    month_starts = pd.date_range(data_start, periods=total + 1, freq="MS")

    seg = rng.choice(SEGMENTS, size=n_accounts, p=[0.52, 0.31, 0.17])
    arr = np.array([ARR_MEDIAN[s] for s in seg]) * np.exp(rng.normal(0, 0.5, n_accounts))
    start_month = rng.integers(-36, months - 3, n_accounts)  # relative to data_start
    contract_start = [
        (data_start + pd.DateOffset(months=int(m))) + pd.Timedelta(days=int(d))
        for m, d in zip(start_month, rng.integers(0, 28, n_accounts), strict=True)
    ]
    seg_h = np.array([SEGMENT_HAZARD[s] for s in seg])
    drift = np.where(rng.random(n_accounts) < 0.3, rng.normal(-0.12, 0.05, n_accounts), 0.0)
    health = rng.normal(0.3, 0.8, n_accounts)
    intent = health.copy()  # the decision to leave builds up over months (an EWMA of health)
    churn_month = np.full(n_accounts, -1)
    churn_day = rng.integers(0, 28, n_accounts)

    rows_t: list[np.ndarray] = []
    rows_s: list[np.ndarray] = []
    rows_x: list[np.ndarray] = []
    rx = np.random.default_rng([seed, 1])  # expansions: a stream of their own
    size = EXPANSION_SIZE * np.log(arr / np.array([ARR_MEDIAN[s] for s in seg]))
    health_end = health.copy()
    for t in range(total):
        active = (start_month <= t) & (churn_month < 0)
        health = 0.9 * health + 0.1 * 0.3 + drift + rng.normal(0, 0.25, n_accounts)
        if t == months - 1:
            health_end = health.copy()
        intent = 0.8 * intent + 0.2 * health
        tenure = np.maximum(t - start_month, 0)
        log_h = -4.2 - 1.6 * intent + seg_h - 0.25 * np.log1p(tenure / 12)
        p = 1 - np.exp(-np.exp(log_h))
        churn = active & (rng.random(n_accounts) < p) & (start_month < t)
        churn_month[churn] = t
        opens = (
            active
            & ~churn
            & (start_month < t)
            & (
                rx.random(n_accounts)
                < 1 / (1 + np.exp(-(EXPANSION_LOGIT + EXPANSION_HEALTH * health + size)))
            )
        )
        x = np.flatnonzero(opens)
        rows_x.append(np.column_stack([x, np.full(x.size, t), rx.integers(0, 28, x.size)]))
        if t >= months:
            continue
        # texts: reviews and survey comments at a steady rate, tickets more often when unhealthy
        alive = np.flatnonzero(active | churn)
        n_txt = rng.poisson(texts_per_month, alive.size)
        n_tk = rng.poisson(0.6 * np.exp(-0.6 * health[alive]))
        for n, kind in ((n_txt, 0), (n_tk, 1)):
            idx = np.repeat(alive, n)
            if idx.size == 0:
                continue
            noise = rng.normal(0, 0.45, idx.size)
            s = np.tanh(text_signal * 0.9 * health[idx] - 0.4 * kind + noise)
            day = rng.integers(0, 28, idx.size)
            rows_t.append(
                np.column_stack([idx, np.full(idx.size, t), day, s, np.full(idx.size, kind)])
            )
        surveyed = alive[rng.random(alive.size) < 0.15]
        if surveyed.size:
            score = np.clip(
                np.round(7 + 1.6 * health[surveyed] + rng.normal(0, 1.5, surveyed.size)), 0, 10
            )
            day = rng.integers(0, 28, surveyed.size)
            rows_s.append(np.column_stack([surveyed, np.full(surveyed.size, t), day, score]))

    ids = np.array([f"ACC-{i:06d}" for i in range(n_accounts)])
    churn_dates = [
        (month_starts[m] + pd.Timedelta(days=int(d))) if m >= 0 else pd.NaT
        for m, d in zip(churn_month, churn_day, strict=True)
    ]
    xs = np.concatenate(rows_x).astype(int)
    opened = month_starts[xs[:, 1]] + pd.to_timedelta(xs[:, 2], unit="D") + pd.Timedelta(hours=9)
    expansions = pd.DataFrame(
        {
            "account_id": ids[xs[:, 0]],
            "created_at": opened,
            "amount": (0.2 * arr[xs[:, 0]]).round(2),
            "closed_at": opened + pd.Timedelta(days=30),
            "is_won": rx.random(len(xs)) < 0.7,
        }
    )
    won = expansions[expansions["is_won"] & (expansions["closed_at"] <= as_of_ts)]
    arr = arr + won.groupby("account_id")["amount"].sum().reindex(ids, fill_value=0.0).to_numpy()
    after = expansions[expansions["created_at"] >= as_of_ts + pd.Timedelta(days=1)]
    first_after = after.groupby("account_id")["created_at"].min().dt.normalize()
    truth = pd.DataFrame(
        {
            "account_id": ids,
            "segment": seg,
            "arr": arr.round(2),
            "churned_at_true": pd.to_datetime(churn_dates),
            "expanded_at_true": pd.Series(ids).map(first_after).to_numpy(),
            "health_end": health_end,
        }
    )
    acc = pd.DataFrame(
        {
            "account_id": ids,
            "name": [f"Firm {i}" for i in range(n_accounts)],
            "segment": seg,
            "arr": arr.round(2),
            "contract_start": pd.to_datetime(contract_start).normalize(),
            "churned_at": truth["churned_at_true"].where(truth["churned_at_true"] <= as_of_ts),
        }
    )
    tx = np.concatenate(rows_t) if rows_t else np.zeros((0, 5))
    created = month_starts[tx[:, 1].astype(int)] + pd.to_timedelta(tx[:, 2], unit="D")
    s = tx[:, 3]
    kinds = np.where(tx[:, 4] == 1, "ticket", "review")
    texts = pd.DataFrame(
        {
            "account_id": ids[tx[:, 0].astype(int)],
            "created_at": created + pd.Timedelta(hours=10),
            "kind": kinds,
            "rating": np.where(kinds == "review", np.clip(np.round(3 + 2 * s), 1, 5), np.nan),
            "text_hash": [f"h{i}" for i in range(len(s))],
            "sentiment": s,
            "p_negative": np.clip((1 - s) / 2, 0, 1) ** 2,
        }
    )
    sv = np.concatenate(rows_s) if rows_s else np.zeros((0, 4))
    srv = pd.DataFrame(
        {
            "account_id": ids[sv[:, 0].astype(int)],
            "submitted_at": month_starts[sv[:, 1].astype(int)]
            + pd.to_timedelta(sv[:, 2], unit="D"),
            "survey_type": "nps",
            "score": sv[:, 3],
        }
    )
    # whatever happened after as_of is not in the inputs
    cut = as_of_ts + pd.Timedelta(days=1)
    texts = texts[(texts["created_at"] < cut)]
    churned = acc.set_index("account_id")["churned_at"]
    texts = texts[texts["created_at"] <= texts["account_id"].map(churned).fillna(cut)]
    srv = srv[srv["submitted_at"] < cut].reset_index(drop=True)
    initial = pd.DataFrame(
        {
            "account_id": ids,
            "created_at": acc["contract_start"] - pd.Timedelta(days=30),
            "amount": acc["arr"],
            "closed_at": acc["contract_start"],
            "is_won": True,
        }
    )
    opps = pd.concat([initial, expansions], ignore_index=True)
    opps = opps[opps["created_at"] < cut].sort_values(["account_id", "created_at"], kind="stable")
    opps.loc[~(opps["closed_at"] < cut), ["closed_at", "is_won"]] = [pd.NaT, False]
    inputs = RiskInputs(
        as_of=as_of_ts,
        accounts=acc,
        texts=texts.reset_index(drop=True),
        surveys=srv,
        aspects=pd.DataFrame(columns=["account_id", "created_at", "aspect", "sentiment"]),
        sentiment_model_version="synthetic",
        opportunities=opps.reset_index(drop=True),
    )
    return SyntheticWorld(inputs=inputs, truth=truth)


def write_to_store(engine: Engine, world: SyntheticWorld, model_version: str = "synthetic") -> None:
    """Insert the world's accounts, texts, their scores, surveys and opportunities into a
    store (tests only)."""
    inp = world.inputs
    now = datetime(2026, 1, 1)
    prov = {"source_file": "synthetic", "row_hash": "0" * 64, "ingest_run_id": None}
    acc_rows = [
        {
            "account_id": r.account_id,
            "name": r.name,
            "name_norm": r.name.lower(),
            "domain": None,
            "segment": r.segment,
            "arr": float(r.arr),
            "currency": "USD",
            "contract_start": r.contract_start.date(),
            "churned_at": None if pd.isna(r.churned_at) else r.churned_at.date(),
            "tracked_source": None,
            "source": "synthetic",
            "source_line": i + 2,
            "updated_at": now,
            **prov,
        }
        for i, r in enumerate(inp.accounts.itertuples())
    ]
    doc_rows, score_rows = [], []
    for i, r in enumerate(inp.texts.itertuples()):
        text = f"synthetic text {i}"
        h = hashlib.sha256(text.encode()).hexdigest()
        doc_rows.append(
            {
                "kind": r.kind,
                "source": "synthetic",
                "source_id": str(i),
                "account_id": r.account_id,
                "resolved_by": "account_id",
                "created_at": r.created_at.to_pydatetime(),
                "title": None,
                "text": text,
                "text_hash": h,
                "content_hash": h,
                "text_chars": len(text),
                "truncated": False,
                "rating": None if pd.isna(r.rating) else float(r.rating),
                "attrs": None,
                "source_line": i + 2,
                **prov,
            }
        )
        s = float(r.sentiment)
        pn = float(r.p_negative)
        pp = min(max(s + pn, 0.0), 1.0)
        score_rows.append(
            {
                "text_hash": h,
                "model_version": model_version,
                "p_negative": pn,
                "p_positive": pp,
                "p_neutral": max(0.0, 1 - pn - pp),
                "sentiment": s,
                "n_chunks": 1,
                "scored_at": now,
            }
        )
    srv_rows = [
        {
            "source": "synthetic",
            "response_id": str(i),
            "account_id": r.account_id,
            "resolved_by": "account_id",
            "submitted_at": r.submitted_at.to_pydatetime(),
            "survey_type": r.survey_type,
            "score": float(r.score),
            "document_id": None,
            "source_line": i + 2,
            **prov,
        }
        for i, r in enumerate(inp.surveys.itertuples())
    ]
    opp_rows = [
        {
            "source": "synthetic",
            "opportunity_id": f"OPP-{i}",
            "account_id": r.account_id,
            "resolved_by": "account_id",
            "created_at": r.created_at.to_pydatetime(),
            "amount": float(r.amount),
            "stage": "closed_won" if r.is_won else None,
            "closed_at": None if pd.isna(r.closed_at) else r.closed_at.to_pydatetime(),
            "is_won": bool(r.is_won) if not pd.isna(r.closed_at) else None,
            "tracked_source": None,
            "source_line": i + 2,
            **prov,
        }
        for i, r in enumerate(inp.opportunities.itertuples())
    ]
    with engine.begin() as conn:
        conn.execute(insert(accounts), acc_rows)
        if opp_rows:
            conn.execute(insert(opportunities), opp_rows)
        if doc_rows:
            conn.execute(insert(documents), doc_rows)
            conn.execute(insert(sentiment_scores), score_rows)
        if srv_rows:
            conn.execute(insert(surveys), srv_rows)
