"""The read side of risk snapshots, for the HTTP layer and the exports.

A fit writes one immutable snapshot: a ``risk_runs`` row, one ``risk_predictions`` row per
active account and its monthly ``risk_trajectories``. Everything here only reads those
tables (they are the interface with the fitting code), joined with ``accounts`` for names.

Two shapes are offered:
- frames (``churn_risk_frame``, ``signals_frame``): the whole snapshot as a DataFrame, for
  file exports and notebooks;
- pages (``churn_risk_page``, ``signals_page``): keyset-paginated rows in a stable order
  (``(sort value, account_id)``), for the API, so a page costs the same at 10k accounts
  as at 100 and a cursor taken on one snapshot keeps reading that snapshot.

Signal lists: ``risk`` ranks accounts whose sentiment trend (change over the last 90
days) is negative, most deteriorating first; ``expansion`` ranks those whose trend is
positive, most strengthening first; ties are broken by account id.

``NoSnapshotError`` is raised when no fit has been stored yet.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any, Literal

import pandas as pd
from sqlalchemy import Engine, and_, func, or_, select

from ingest.db.schema import accounts, risk_predictions, risk_runs, risk_trajectories
from ingest.errors import InputError, NotFoundError
from risk.errors import NoSnapshotError
from risk.forecast import HORIZONS

__all__ = ["HORIZONS", "NoSnapshotError"]  # re-exported: the API maps it to 409

SignalList = Literal["risk", "expansion"]
SIGNAL_LISTS: tuple[str, ...] = ("risk", "expansion")
UNFINISHED = ("running", "failed", "error")
Z95 = 1.959963984540054

CHURN_COLUMNS = [
    "account_id",
    "arr",
    "p_churn",
    "p_churn_low",
    "p_churn_high",
    "revenue_at_risk",
    "expected_ltv",
    "as_of",
    "model_version",
    "name",
    "segment",
]
SIGNAL_COLUMNS = [
    "account_id",
    "name",
    "arr",
    "sentiment",
    "sentiment_trend",
    "p_churn_90d",
    "reason",
]


# ---------------------------------------------------------------- runs
def _run_dict(row: Any) -> dict[str, Any]:
    d = dict(row._mapping)
    d["params"] = d.get("params") or {}
    d["metrics"] = d.get("metrics") or {}
    return d


def _run_columns(details: bool) -> list[Any]:
    c = risk_runs.c
    light = [c.run_id, c.as_of, c.created_at, c.model_version, c.sentiment_model_version]
    return light + [c.status, c.n_accounts] + ([c.params, c.metrics] if details else [])


def latest_run(engine: Engine, *, details: bool = True) -> dict[str, Any] | None:
    """The most recently created finished snapshot, or None before the first fit.

    ``details=False`` leaves out the ``params`` and ``metrics`` JSON (the back-test can
    be large), for the hot paths that only need the run's id, date and versions.
    """
    stmt = (
        select(*_run_columns(details))
        .where(risk_runs.c.status.not_in(UNFINISHED))
        .order_by(risk_runs.c.created_at.desc(), risk_runs.c.run_id.desc())
        .limit(1)
    )
    with engine.connect() as conn:
        row = conn.execute(stmt).first()
    return None if row is None else _run_dict(row)


def get_run(engine: Engine, run_id: str | None = None, *, details: bool = True) -> dict[str, Any]:
    """The named snapshot (NotFoundError if absent), or the latest (NoSnapshotError)."""
    if run_id is None:
        run = latest_run(engine, details=details)
        if run is None:
            raise NoSnapshotError()
        return run
    with engine.connect() as conn:
        row = conn.execute(
            select(*_run_columns(details)).where(risk_runs.c.run_id == run_id)
        ).first()
    if row is None:
        raise NotFoundError(f"risk run '{run_id}' does not exist (it may have been deleted)")
    return _run_dict(row)


def check_horizon(horizon_days: int) -> int:
    if horizon_days not in HORIZONS:
        raise InputError(f"horizon_days must be one of {list(HORIZONS)}, got {horizon_days}")
    return horizon_days


def _p_columns(horizon_days: int) -> tuple[Any, Any, Any]:
    h = check_horizon(horizon_days)
    c = risk_predictions.c
    return c[f"p_churn_{h}d"], c[f"p_churn_{h}d_low"], c[f"p_churn_{h}d_high"]


# ---------------------------------------------------------------- churn feed
def _churn_select(horizon_days: int, run_id: str) -> Any:
    p, lo, hi = _p_columns(horizon_days)
    rp = risk_predictions.c
    return (
        select(
            rp.account_id,
            rp.arr,
            p.label("p_churn"),
            lo.label("p_churn_low"),
            hi.label("p_churn_high"),
            rp.expected_ltv,
            func.coalesce(rp.segment, accounts.c.segment).label("segment"),
            accounts.c.name,
        )
        .select_from(risk_predictions.outerjoin(accounts, accounts.c.account_id == rp.account_id))
        .where(rp.run_id == run_id)
    )


def _churn_row(row: Any, run: dict[str, Any]) -> dict[str, Any]:
    d = dict(row._mapping)
    d["revenue_at_risk"] = d["arr"] * d["p_churn"]
    d["as_of"] = run["as_of"]
    d["model_version"] = run["model_version"]
    return d


def churn_risk_frame(engine: Engine, horizon_days: int, run_id: str | None = None) -> pd.DataFrame:
    """The finance feed of one snapshot: one row per account, contract columns first."""
    run = get_run(engine, run_id)
    stmt = _churn_select(horizon_days, run["run_id"]).order_by(risk_predictions.c.account_id)
    with engine.connect() as conn:
        rows = [_churn_row(r, run) for r in conn.execute(stmt)]
    return pd.DataFrame(rows, columns=CHURN_COLUMNS)


def churn_risk_page(
    engine: Engine,
    horizon_days: int,
    *,
    run_id: str | None = None,
    after: str | None = None,
    limit: int | None = 100,
    run: dict[str, Any] | None = None,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(run, rows) of the finance feed ordered by account id, starting after ``after``.

    ``run``: the snapshot already looked up by the caller (saves a query)."""
    run = run or get_run(engine, run_id, details=False)
    stmt = _churn_select(horizon_days, run["run_id"]).order_by(risk_predictions.c.account_id)
    if after is not None:
        stmt = stmt.where(risk_predictions.c.account_id > after)
    if limit is not None:
        stmt = stmt.limit(limit)
    with engine.connect() as conn:
        rows = [_churn_row(r, run) for r in conn.execute(stmt)]
    return run, rows


# ---------------------------------------------------------------- revenue at risk
def _interval_from_predictions(rows: list[Any]) -> dict[str, float | int]:
    """Expected churned ARR with an approximate 95% interval.

    The band combines the model's own uncertainty (every account at its low / high
    p_churn) with the spread of outcomes given the probabilities (independent Bernoulli
    churn events, normal approximation).
    """
    arr = sum(r.arr for r in rows)
    expected = sum(r.arr * r.p for r in rows)
    low_p = sum(r.arr * r.lo for r in rows)
    high_p = sum(r.arr * r.hi for r in rows)
    sd = math.sqrt(sum(r.arr * r.arr * r.p * (1.0 - r.p) for r in rows))  # inf, not OverflowError
    return {
        "arr": arr,
        "expected_churned_arr": expected,
        "low": max(0.0, low_p - Z95 * sd),
        "high": min(arr, high_p + Z95 * sd),
        "accounts": len(rows),
    }


def _finite_bands(stored: dict[str, Any]) -> bool:
    """Whether every figure of a stored revenue risk is a finite number (a snapshot of a
    store from before the ingest bounds may hold nulls where a sum overflowed)."""
    bands = [stored["total"], *(stored.get("segments") or [])]
    keys = ("arr", "expected_churned_arr", "low", "high")
    return all(
        isinstance(b.get(k), int | float) and math.isfinite(b[k]) for b in bands for k in keys
    )


def revenue_risk(engine: Engine, horizon_days: int, run_id: str | None = None) -> dict[str, Any]:
    """Expected churned ARR within ``horizon_days`` with an interval, total and by segment.

    Uses the figures the fit stored in ``risk_runs.metrics["revenue_risk"]`` when present
    (the fitting code may simulate the joint distribution); otherwise aggregates the
    per-account predictions as documented in ``_interval_from_predictions``.
    """
    run = get_run(engine, run_id)
    h = check_horizon(horizon_days)
    stored = (run["metrics"].get("revenue_risk") or {}).get(str(h))
    base = {
        "horizon_days": h,
        "run_id": run["run_id"],
        "as_of": run["as_of"],
        "model_version": run["model_version"],
    }
    if stored and "total" in stored and _finite_bands(stored):
        return {
            **base,
            "method": "stored by the fit (risk_runs.metrics.revenue_risk)",
            "total": stored["total"],
            "segments": list(stored.get("segments") or []),
        }
    p, lo, hi = _p_columns(h)
    rp = risk_predictions.c
    stmt = select(
        rp.arr,
        p.label("p"),
        lo.label("lo"),
        hi.label("hi"),
        func.coalesce(rp.segment, accounts.c.segment, "unknown").label("segment"),
    ).select_from(risk_predictions.outerjoin(accounts, accounts.c.account_id == rp.account_id))
    with engine.connect() as conn:
        rows = list(conn.execute(stmt.where(rp.run_id == run["run_id"])))
    by_segment: dict[str, list[Any]] = defaultdict(list)
    for r in rows:
        by_segment[r.segment].append(r)
    return {
        **base,
        "method": "sum of arr x p_churn; interval: model band +/- 1.96 sd of Bernoulli outcomes",
        "total": _interval_from_predictions(rows),
        "segments": [
            {"segment": s, **_interval_from_predictions(rs)} for s, rs in sorted(by_segment.items())
        ],
    }


# ---------------------------------------------------------------- signals
def _check_list(list_kind: str) -> str:
    if list_kind not in SIGNAL_LISTS:
        raise InputError(f"list must be one of {list(SIGNAL_LISTS)}, got {list_kind!r}")
    return list_kind


def _signals_select(
    list_kind: str, run_id: str, after: tuple[float, str] | None = None, limit: int | None = None
) -> Any:
    """Rank and cut on ``risk_predictions`` alone (an index range scan on
    ``ix_risk_predictions_run_trend``), then join the page's account names."""
    rp = risk_predictions.c
    trend, aid = rp.sentiment_trend, rp.account_id
    risk = _check_list(list_kind) == "risk"
    ranked = (
        select(aid, rp.arr, rp.sentiment, trend, rp.p_churn_90d, rp.reason)
        .where(rp.run_id == run_id, trend < 0 if risk else trend > 0)
        .order_by(trend.asc() if risk else trend.desc(), aid.asc())
    )
    if after is not None:
        value, account_id = after
        beyond = trend > value if risk else trend < value
        ranked = ranked.where(or_(beyond, and_(trend == value, aid > account_id)))
    page = ranked.limit(limit).subquery() if limit is not None else ranked.subquery()
    p = page.c
    return (
        select(
            p.account_id,
            func.coalesce(accounts.c.name, p.account_id).label("name"),
            p.arr,
            p.sentiment,
            p.sentiment_trend,
            p.p_churn_90d,
            p.reason,
        )
        .select_from(page.outerjoin(accounts, accounts.c.account_id == p.account_id))
        .order_by(p.sentiment_trend.asc() if risk else p.sentiment_trend.desc(), p.account_id)
    )


def signals_frame(engine: Engine, list_kind: str, run_id: str | None = None) -> pd.DataFrame:
    """The whole ranked sales list of one snapshot (see the module docstring)."""
    run = get_run(engine, run_id)
    with engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(_signals_select(list_kind, run["run_id"]))]
    return pd.DataFrame(rows, columns=SIGNAL_COLUMNS)


def signals_page(
    engine: Engine,
    list_kind: str,
    *,
    run_id: str | None = None,
    after: tuple[float, str] | None = None,
    limit: int = 50,
    run: dict[str, Any] | None = None,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(run, rows) of a ranked sales list, starting after ``(sentiment_trend, account_id)``.

    ``run``: the snapshot already looked up by the caller (saves a query)."""
    run = run or get_run(engine, run_id, details=False)
    stmt = _signals_select(list_kind, run["run_id"], after, limit)
    with engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(stmt)]
    return run, rows


# ---------------------------------------------------------------- one account
def account_trajectory(engine: Engine, run_id: str, account_id: str) -> list[dict[str, Any]]:
    """The monthly sentiment trajectory a snapshot was built from, oldest month first."""
    rt = risk_trajectories.c
    stmt = (
        select(rt.month, rt.sentiment, rt.n_texts)
        .where(rt.run_id == run_id, rt.account_id == account_id)
        .order_by(rt.month)
    )
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(stmt)]


def account_risk(
    engine: Engine, account_id: str, run_id: str | None = None
) -> dict[str, Any] | None:
    """Risk fields, drivers and monthly trajectory of one account in a snapshot.

    None when the snapshot has no prediction for the account (e.g. it had churned by
    ``as_of``); NoSnapshotError before the first fit.
    """
    run = get_run(engine, run_id)
    with engine.connect() as conn:
        row = conn.execute(
            select(risk_predictions).where(
                risk_predictions.c.run_id == run["run_id"],
                risk_predictions.c.account_id == account_id,
            )
        ).first()
    if row is None:
        return None
    d = dict(row._mapping)
    horizons = {
        str(h): {
            "p_churn": d[f"p_churn_{h}d"],
            "p_churn_low": d[f"p_churn_{h}d_low"],
            "p_churn_high": d[f"p_churn_{h}d_high"],
            "revenue_at_risk": d["arr"] * d[f"p_churn_{h}d"],
        }
        for h in HORIZONS
    }
    return {
        "run_id": run["run_id"],
        "as_of": run["as_of"],
        "model_version": run["model_version"],
        "sentiment_model_version": run["sentiment_model_version"],
        "account_id": account_id,
        "arr": d["arr"],
        "segment": d["segment"],
        "sentiment": d["sentiment"],
        "sentiment_trend": d["sentiment_trend"],
        "p_churn_90d": d["p_churn_90d"],
        "horizons": horizons,
        "expected_ltv": d["expected_ltv"],
        "reason": d["reason"],
        "drivers": list(d["drivers"] or []),
        "trajectory": account_trajectory(engine, run["run_id"], account_id),
        "run": run,
    }


def account_record(engine: Engine, account_id: str) -> dict[str, Any] | None:
    """The stored account (as ingested, with its source file and line), or None."""
    c = accounts.c
    stmt = select(
        c.account_id,
        c.name,
        c.domain,
        c.segment,
        c.arr,
        c.currency,
        c.contract_start,
        c.churned_at,
        c.tracked_source,
        c.source_file,
        c.source_line,
    ).where(c.account_id == account_id)
    with engine.connect() as conn:
        row = conn.execute(stmt).first()
    return None if row is None else dict(row._mapping)
