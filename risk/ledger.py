"""The forecast ledger: every fit records its forecasts; later fits judge them.

A forecast is (run, account, horizon): P(churn within ``horizon_days`` after ``as_of``),
due at ``as_of + horizon``. A fit at ``as_of'`` judges every open forecast that is due by
``as_of'`` against the churn dates it knows (churned in (as_of, due] -> outcome true),
then summarises all judged forecasts per earlier run and horizon: accuracy across
planning cycles (accounts, expected vs observed churns, Brier score, AUC).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, and_, insert, select, update

from ingest.db.schema import forecast_ledger
from risk.metrics import auc

BATCH = 5_000


def record(
    conn: Connection, run_id: str, as_of: date, predictions: pd.DataFrame, horizons: tuple[int, ...]
) -> int:
    """Store the run's forecasts for every horizon; returns the number of rows."""
    rows: list[dict[str, Any]] = []
    for h in horizons:
        due = as_of + pd.Timedelta(days=h).to_pytimedelta()
        for acc, p in zip(predictions["account_id"], predictions[f"p_churn_{h}d"], strict=True):
            rows.append(
                {
                    "run_id": run_id,
                    "account_id": acc,
                    "horizon_days": h,
                    "as_of": as_of,
                    "due": due,
                    "p_churn": float(p),
                }
            )
    for lo in range(0, len(rows), BATCH):
        conn.execute(insert(forecast_ledger), rows[lo : lo + BATCH])
    return len(rows)


def judge_open(conn: Connection, run_id: str, as_of: date, churn: pd.Series) -> int:
    """Set the outcome of every open forecast due by ``as_of`` (``churn``: account -> date).

    Forecasts of one run and horizon share (as_of, due), so each group is judged with two
    set-based updates: true for the accounts that churned inside the window, false for the rest."""
    groups = conn.execute(
        select(
            forecast_ledger.c.run_id,
            forecast_ledger.c.horizon_days,
            forecast_ledger.c.as_of,
            forecast_ledger.c.due,
        )
        .where(
            forecast_ledger.c.outcome.is_(None),
            forecast_ledger.c.due <= as_of,
            forecast_ledger.c.run_id != run_id,
        )
        .distinct()
    ).all()
    known = pd.to_datetime(churn.dropna())
    n = 0
    for g in groups:
        window = known[(known > pd.Timestamp(g.as_of)) & (known <= pd.Timestamp(g.due))]
        ids = list(window.index)
        base = and_(
            forecast_ledger.c.run_id == g.run_id,
            forecast_ledger.c.horizon_days == g.horizon_days,
            forecast_ledger.c.outcome.is_(None),
        )
        for lo in range(0, len(ids), 500):
            res = conn.execute(
                update(forecast_ledger)
                .where(base, forecast_ledger.c.account_id.in_(ids[lo : lo + 500]))
                .values(outcome=True, judged_in_run=run_id)
            )
            n += res.rowcount or 0
        res = conn.execute(
            update(forecast_ledger).where(base).values(outcome=False, judged_in_run=run_id)
        )
        n += res.rowcount or 0
    return n


def summary(conn: Connection) -> list[dict[str, Any]]:
    """Accuracy of every earlier run's judged forecasts, per run and horizon."""
    rows = conn.execute(
        select(
            forecast_ledger.c.run_id,
            forecast_ledger.c.as_of,
            forecast_ledger.c.horizon_days,
            forecast_ledger.c.p_churn,
            forecast_ledger.c.outcome,
        ).where(forecast_ledger.c.outcome.is_not(None))
    ).all()
    if not rows:
        return []
    df = pd.DataFrame(
        [tuple(r) for r in rows], columns=["run_id", "as_of", "horizon_days", "p", "y"]
    )
    df["y"] = df["y"].astype(float)
    out = []
    for (run, as_of, h), g in df.groupby(["run_id", "as_of", "horizon_days"]):
        y, p = g["y"].to_numpy(), g["p"].to_numpy()
        out.append(
            {
                "run_id": run,
                "as_of": pd.Timestamp(as_of).date().isoformat(),
                "horizon_days": int(h),
                "accounts": len(g),
                "expected": round(float(p.sum()), 2),
                "observed": int(y.sum()),
                "brier": round(float(np.mean((y - p) ** 2)), 5),
                "auc": auc(y, p),
            }
        )
    return out
