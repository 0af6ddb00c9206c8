"""What each role view shows, assembled from the library's read functions.

Every function returns plain dicts for the templates and reads the same sources as the
``/v1`` API (``risk.feeds``, ``nlp.evidence``, ``risk.dark_funnel``, ``risk.ledger``),
so a number on a page and the same number from the API always agree. Before the first
fit the risk views return ``run: None`` instead of failing.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Engine, func, select

from ingest.db.schema import (
    aspect_scores,
    documents,
    forecast_ledger,
    risk_trajectories,
    sentiment_scores,
)
from ingest.errors import NotFoundError
from nlp.evidence import (
    account_texts,
    evidence_for_accounts,
    latest_scored_version,
    monthly_sentiment,
)
from risk import feeds
from risk.errors import NoSnapshotError

EVIDENCE_WINDOW = timedelta(days=90)  # as in GET /v1/signals: the texts that moved the trend
SPARK_MONTHS = 12
TEXTS_PER_PAGE = 20


def _run_or_none(engine: Engine) -> dict[str, Any] | None:
    try:
        return feeds.get_run(engine)
    except NoSnapshotError:
        return None


def trajectories(
    engine: Engine, run_id: str, account_ids: list[str], months: int = SPARK_MONTHS
) -> dict[str, list[float | None]]:
    """The last ``months`` monthly sentiments per account of a snapshot (None: no texts)."""
    if not account_ids:
        return {}
    rt = risk_trajectories.c
    stmt = (
        select(rt.account_id, rt.month, rt.sentiment)
        .where(rt.run_id == run_id, rt.account_id.in_(account_ids))
        .order_by(rt.account_id, rt.month)
    )
    series: dict[str, list[float | None]] = defaultdict(list)
    with engine.connect() as conn:
        for row in conn.execute(stmt):
            series[row.account_id].append(row.sentiment)
    return {a: s[-months:] for a, s in series.items()}


def sales_view(
    engine: Engine,
    limit: int = 25,
    evidence: int = 2,
    sorts: dict[str, str | None] | None = None,
    filters: feeds.SignalFilters | None = None,
) -> dict[str, Any]:
    """The risk and expansion lists of the latest snapshot (sorted and filtered as the
    rep asked), with evidence, sparklines and each list's out-of-time calibration line."""
    run = _run_or_none(engine)
    if run is None:
        return {"run": None, "lists": {}, "calibration": {}, "sorts": {}}
    lists: dict[str, list[dict[str, Any]]] = {}
    calibration: dict[str, Any] = {}
    chosen: dict[str, str] = {}
    for kind, order in (("risk", "negative"), ("expansion", "positive")):
        sort = feeds.check_sort(kind, (sorts or {}).get(kind))
        chosen[kind] = sort
        _, rows = feeds.signals_page(
            engine, kind, run_id=run["run_id"], limit=limit, sort=sort, filters=filters
        )
        ids = [r["account_id"] for r in rows]
        texts = evidence_for_accounts(
            engine,
            ids,
            model_version=run["sentiment_model_version"],
            since=run["as_of"] - EVIDENCE_WINDOW,
            until=run["as_of"],
            order=order,  # type: ignore[arg-type]
            per_account=evidence,
            max_chars=220,
        )
        spark = trajectories(engine, run["run_id"], ids)
        lists[kind] = [
            {
                **r,
                "evidence": texts.get(r["account_id"], []),
                "spark": spark.get(r["account_id"], []),
            }
            for r in rows
        ]
        calibration[kind] = feeds.list_calibration(run, kind, sort, limit)
    return {"run": run, "lists": lists, "calibration": calibration, "sorts": chosen}


def open_forecasts(engine: Engine) -> list[dict[str, Any]]:
    """Forecasts not yet judged, per run and horizon: how many, expected churns, when due."""
    fl = forecast_ledger.c
    stmt = (
        select(
            fl.run_id,
            fl.as_of,
            fl.horizon_days,
            func.count().label("accounts"),
            func.sum(fl.p_churn).label("expected"),
            func.max(fl.due).label("due"),
        )
        .where(fl.outcome.is_(None))
        .group_by(fl.run_id, fl.as_of, fl.horizon_days)
        .order_by(fl.as_of.desc(), fl.horizon_days)
    )
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(stmt)]


def finance_view(engine: Engine, horizon_days: int, top: int = 15) -> dict[str, Any]:
    """Revenue at risk by segment, back-test calibration, the forecast ledger, top accounts."""
    from risk.ledger import summary

    feeds.check_horizon(horizon_days)
    run = _run_or_none(engine)
    with engine.connect() as conn:
        judged = summary(conn)
    ledger = {
        "judged": sorted(judged, key=lambda r: (r["as_of"], r["horizon_days"]), reverse=True),
        "open": open_forecasts(engine),
    }
    if run is None:
        return {"run": None, "ledger": ledger, "horizon_days": horizon_days}
    revenue = feeds.revenue_risk(engine, horizon_days, run_id=run["run_id"])
    frame = feeds.churn_risk_frame(engine, horizon_days, run_id=run["run_id"])
    top_rows = (
        frame.sort_values(["revenue_at_risk", "account_id"], ascending=[False, True])
        .head(top)
        .to_dict("records")
    )
    backtest = run["metrics"].get("backtest") or {}
    return {
        "run": run,
        "horizon_days": horizon_days,
        "revenue": revenue,
        "top": top_rows,
        "backtest": backtest,
        "models": backtest.get("models") or {},
        "metrics": run["metrics"],
        "ledger": ledger,
    }


def marketing_view(engine: Engine, date_from: date | None, date_to: date | None) -> dict[str, Any]:
    """The dark-funnel measurement of the period (``risk.dark_funnel.measure``)."""
    from risk.dark_funnel import measure

    result = measure(engine, date_from, date_to)
    channels = sorted(result["channels"], key=lambda c: -(c["self_reported_share"] or 0.0))
    return {**result, "channels": channels, "date_from": date_from, "date_to": date_to}


def account_view(engine: Engine, account_id: str, offset: int = 0) -> dict[str, Any]:
    """The account, its risk and drivers, its trajectory and a page of its texts."""
    account = feeds.account_record(engine, account_id)
    if account is None:
        raise NotFoundError(f"unknown account '{account_id}'")
    run = _run_or_none(engine)
    risk = feeds.account_risk(engine, account_id, run_id=run["run_id"]) if run else None
    version = (run or {}).get("sentiment_model_version") or latest_scored_version(engine)
    if risk and risk["trajectory"]:
        trajectory, source = risk["trajectory"], "risk snapshot"
    else:
        trajectory, source = (
            monthly_sentiment(engine, account_id, model_version=version),
            "scored texts",
        )
    total, texts = account_texts(
        engine,
        account_id,
        model_version=version,
        limit=TEXTS_PER_PAGE,
        offset=offset,
        max_chars=1200,
    )
    return {
        "account": account,
        "run": run,
        "risk": risk,
        "trajectory": trajectory,
        "trajectory_source": source,
        "texts": texts,
        "texts_total": total,
        "offset": offset,
        "page_size": TEXTS_PER_PAGE,
        "sentiment_model_version": version,
    }


def document_view(engine: Engine, document_id: int) -> dict[str, Any]:
    """One stored text with everything that traces it: file, line, row hash, ingest run,
    and its scores under every model version."""
    d = documents.c
    with engine.connect() as conn:
        row = conn.execute(select(documents).where(d.id == document_id)).first()
        if row is None:
            raise NotFoundError(f"unknown document {document_id}")
        doc = dict(row._mapping)
        scores = [
            dict(r._mapping)
            for r in conn.execute(
                select(sentiment_scores)
                .where(sentiment_scores.c.text_hash == doc["text_hash"])
                .order_by(sentiment_scores.c.scored_at.desc())
            )
        ]
        aspects = [
            dict(r._mapping)
            for r in conn.execute(
                select(aspect_scores)
                .where(aspect_scores.c.text_hash == doc["text_hash"])
                .order_by(aspect_scores.c.aspect)
            )
        ]
    return {"document": doc, "scores": scores, "aspects": aspects}
