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

Signal lists (CONTRACT section 3, second round): ``risk`` ranks every active account by
the churn model's ``p_churn_90d`` (``sort=revenue_at_risk``: by ARR x p_churn_90d),
``expansion`` by the expansion model's ``p_expand_180d``, highest first, ties by account
id descending (so each sort is one backward walk of its index). ``sort=trend`` keeps the
first round's lists: accounts whose (shrunk) sentiment trend is negative, most
deteriorating first (risk), or positive, most strengthening first (expansion). Filters:
``SignalFilters``. Each row carries the list's own model's ``reason`` and cited drivers.

``NoSnapshotError`` is raised when no fit has been stored yet.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
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
    "p_expand_180d",
    "reason",
    "segment",
    "revenue_at_risk",
    "texts_90d",
    "trend_weight",
    "trend_confident",
    "sort_value",
]
# each list's sorts, its default first (CONTRACT section 3)
SIGNAL_SORTS: dict[str, tuple[str, ...]] = {
    "risk": ("p_churn_90d", "revenue_at_risk", "trend"),
    "expansion": ("p_expand_180d", "trend"),
}
# a trend is "confident" when shrinkage kept at least half of the measured change
TREND_CONFIDENT_WEIGHT = 0.5


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
@dataclass(frozen=True)
class SignalFilters:
    """What a rep narrows a list to: a segment, a minimum ARR, at least N texts in the
    last 90 days (``texts_90d``)."""

    segment: str | None = None
    min_arr: float | None = None
    min_texts: int | None = None

    def key(self) -> str:
        """The filters as text (a cursor is only valid with the filters it was taken with)."""
        values = (self.segment, self.min_arr, self.min_texts)
        return "|".join("" if v is None else str(v) for v in values)


def default_sort(list_kind: str) -> str:
    return SIGNAL_SORTS[_check_list(list_kind)][0]


def _check_list(list_kind: str) -> str:
    if list_kind not in SIGNAL_LISTS:
        raise InputError(f"list must be one of {list(SIGNAL_LISTS)}, got {list_kind!r}")
    return list_kind


def check_sort(list_kind: str, sort: str | None) -> str:
    """The list's sort (its default when None); InputError for one the list lacks."""
    allowed = SIGNAL_SORTS[_check_list(list_kind)]
    if sort is None:
        return allowed[0]
    if sort not in allowed:
        raise InputError(f"sort for list={list_kind} must be one of {list(allowed)}, got {sort!r}")
    return sort


def _sort_key(list_kind: str, sort: str) -> tuple[Any, bool, Any]:
    """(column, descending, the rows the sort keeps) of a list's sort."""
    rp = risk_predictions.c
    if sort == "trend":
        falling = list_kind == "risk"
        trend = rp.sentiment_trend
        return trend, not falling, trend < 0 if falling else trend > 0
    col = {
        "p_churn_90d": rp.p_churn_90d,
        "revenue_at_risk": rp.revenue_at_risk_90d,
        "p_expand_180d": rp.p_expand_180d,
    }[sort]
    return col, True, col.is_not(None)


def _signals_select(
    list_kind: str,
    run_id: str,
    after: tuple[float, str] | None = None,
    limit: int | None = None,
    sort: str | None = None,
    filters: SignalFilters | None = None,
) -> Any:
    """Rank and cut on ``risk_predictions`` alone (an index range scan on the sort's
    (run, key, account) index), then join the page's account names."""
    rp = risk_predictions.c
    sort = check_sort(list_kind, sort)
    key, desc, kept = _sort_key(list_kind, sort)
    aid = rp.account_id
    f = filters or SignalFilters()
    ranked = select(
        aid.label("account_id"),
        key.label("sort_value"),
        rp.arr,
        rp.segment,
        rp.sentiment,
        rp.sentiment_trend,
        rp.trend_weight,
        rp.texts_90d,
        rp.p_churn_90d,
        rp.revenue_at_risk_90d,
        rp.p_expand_180d,
        (rp.reason if list_kind == "risk" else rp.expansion_reason).label("reason"),
        (rp.drivers if list_kind == "risk" else rp.expansion_drivers).label("drivers"),
    ).where(rp.run_id == run_id, kept)
    if f.segment is not None:
        ranked = ranked.where(rp.segment == f.segment)
    if f.min_arr is not None:
        ranked = ranked.where(rp.arr >= f.min_arr)
    if f.min_texts is not None:
        ranked = ranked.where(rp.texts_90d >= f.min_texts)
    if after is not None:
        value, account_id = after
        if desc:
            beyond = or_(key < value, and_(key == value, aid < account_id))
        else:
            beyond = or_(key > value, and_(key == value, aid > account_id))
        ranked = ranked.where(beyond)
    ranked = ranked.order_by(*((key.desc(), aid.desc()) if desc else (key.asc(), aid.asc())))
    page = ranked.limit(limit).subquery() if limit is not None else ranked.subquery()
    p = page.c
    return (
        select(
            *(c for c in p if c.name != "account_id"),
            p.account_id,
            func.coalesce(accounts.c.name, p.account_id).label("name"),
        )
        .select_from(page.outerjoin(accounts, accounts.c.account_id == p.account_id))
        .order_by(
            *(
                (p.sort_value.desc(), p.account_id.desc())
                if desc
                else (p.sort_value.asc(), p.account_id.asc())
            )
        )
    )


def _signal_row(row: Any) -> dict[str, Any]:
    d = dict(row._mapping)
    w = d.get("trend_weight")
    d["trend_confident"] = None if w is None else bool(w >= TREND_CONFIDENT_WEIGHT)
    d["revenue_at_risk"] = d.pop("revenue_at_risk_90d")
    d["drivers"] = [x for x in (d.get("drivers") or []) if x.get("cited", True)]
    return d


def list_calibration(
    run: dict[str, Any], list_kind: str, sort: str | None, size: int | None
) -> dict[str, Any] | None:
    """How lists ranked like this one fared out of time (``risk.signals``): for the most
    recent origin with a fully observed window, the outcome rate of its top ``n`` (the
    largest checked size up to ``size``), the base rate, the same pooled over the
    checked origins, and the sentence the sales view shows. None when the run holds no
    check (an older run, or too little history) or the sort was not checked."""
    sort = check_sort(list_kind, sort)
    lists = ((run.get("metrics") or {}).get("lists") or {}).get(list_kind) or {}
    origins = [o for o in lists.get("origins") or [] if o.get("top")]
    field = {"trend": "top_trend", "revenue_at_risk": "top_revenue_at_risk"}.get(sort, "top")
    if not origins:
        return None
    last = max(origins, key=lambda o: o["origin"])  # the most recent origin
    if field not in last:
        return None
    sizes = sorted(int(n) for n in last[field])
    n = max([k for k in sizes if size is None or k <= size] or sizes[:1])
    rate = last[field].get(str(n))
    if rate is None:
        return None
    pooled = [
        (o[field][str(n)], o["base_rate"]) for o in origins if o[field].get(str(n)) is not None
    ]
    h = int(lists.get("horizon_days") or 90)
    verb = "churned" if list_kind == "risk" else "opened an expansion opportunity"
    when = "last quarter" if h <= 90 else "two quarters ago"
    text = (
        f"Of the {n} accounts ranked like these {when} (as of {last['origin']}), "
        f"{rate:.0%} {verb} within {h} days; of all {last['accounts']} accounts then, "
        f"{last['base_rate']:.0%}."
    )
    return {
        "horizon_days": h,
        "origin": last["origin"],
        "top_n": n,
        "rate": rate,
        "base_rate": last["base_rate"],
        "accounts": last["accounts"],
        "origins_pooled": len(pooled),
        "pooled_rate": round(sum(r for r, _ in pooled) / len(pooled), 4),
        "pooled_base_rate": round(sum(b for _, b in pooled) / len(pooled), 4),
        "text": text,
    }


def signals_frame(
    engine: Engine,
    list_kind: str,
    run_id: str | None = None,
    *,
    sort: str | None = None,
    filters: SignalFilters | None = None,
) -> pd.DataFrame:
    """The whole ranked sales list of one snapshot (see the module docstring)."""
    run = get_run(engine, run_id)
    stmt = _signals_select(list_kind, run["run_id"], sort=sort, filters=filters)
    with engine.connect() as conn:
        rows = [_signal_row(r) for r in conn.execute(stmt)]
    return pd.DataFrame(rows, columns=SIGNAL_COLUMNS)


def signals_page(
    engine: Engine,
    list_kind: str,
    *,
    run_id: str | None = None,
    after: tuple[float, str] | None = None,
    limit: int | None = 50,
    run: dict[str, Any] | None = None,
    sort: str | None = None,
    filters: SignalFilters | None = None,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(run, rows) of a ranked sales list, starting after ``(sort value, account_id)``;
    every row carries its ``sort_value`` (the cursor's key). ``limit`` None: all rows.

    ``run``: the snapshot already looked up by the caller (saves a query)."""
    run = run or get_run(engine, run_id, details=False)
    stmt = _signals_select(list_kind, run["run_id"], after, limit, sort, filters)
    with engine.connect() as conn:
        rows = [_signal_row(r) for r in conn.execute(stmt)]
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
        "p_expand_180d": d.get("p_expand_180d"),
        "texts_90d": d.get("texts_90d"),
        "trend_weight": d.get("trend_weight"),
        "expansion_reason": d.get("expansion_reason"),
        "expansion_drivers": list(d.get("expansion_drivers") or []),
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
