"""What each role view shows, assembled from the library's read functions.

Every function returns plain dicts for the templates and reads the same sources as the
``/v1`` API (``risk.feeds``, ``nlp.evidence``, ``marketing.dark_funnel``, ``risk.ledger``,
``marketing.funnel``, ``marketing.measure``, ``marketing.forecast_ledger``),
so a number on a page and the same number from the API always agree. Before the first
fit the risk views return ``run: None`` instead of failing, and before the first
``undertow measure`` the channel-impact and pipeline views return ``measurement: None``.
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
    monthly_sentiment,
)
from nlp.versions import sentiment_version
from risk import feeds
from risk.errors import NoSnapshotError

EVIDENCE_WINDOW = timedelta(days=90)  # as in GET /v1/signals: the texts that moved the trend
SPARK_MONTHS = 12
TEXTS_PER_PAGE = 20
CURVE_WEEKS = 13  # response curves: the spend of the last quarter measured
ACTUAL_WEEKS = 26  # the fan chart shows this many measured weeks before the forecast
FORECAST_WEEKS = 13
LEDGER_ROWS = 20


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
    """The dark-funnel measurement of the period (``marketing.dark_funnel.measure``)."""
    from marketing.dark_funnel import measure

    result = measure(engine, date_from, date_to)
    channels = sorted(result["channels"], key=lambda c: -(c["self_reported_share"] or 0.0))
    return {**result, "channels": channels, "date_from": date_from, "date_to": date_to}


def funnel_view(
    engine: Engine, by: str, date_from: date | None = None, date_to: date | None = None
) -> dict[str, Any]:
    """The revenue funnel of the period (``marketing.funnel.funnel``, as ``GET /v1/funnel``)."""
    from marketing.funnel import funnel

    return funnel(engine, date_from, date_to, by)


def account_view(engine: Engine, account_id: str, offset: int = 0) -> dict[str, Any]:
    """The account, its risk and drivers, its trajectory and a page of its texts."""
    account = feeds.account_record(engine, account_id)
    if account is None:
        raise NotFoundError(f"unknown account '{account_id}'")
    run = _run_or_none(engine)
    risk = feeds.account_risk(engine, account_id, run_id=run["run_id"]) if run else None
    version = (run or {}).get("sentiment_model_version") or sentiment_version(engine)
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


# ---------------------------------------------------------------- marketing measurement
def _measurement_or_none(engine: Engine) -> dict[str, Any] | None:
    from marketing.errors import NoMeasurementError
    from marketing.measure import get_measurement

    try:
        return get_measurement(engine)
    except NoMeasurementError:
        return None


def _interval(value: float | None, low: float | None, high: float | None) -> dict[str, Any]:
    return {"value": value, "low": low, "high": high}


def _per(i: dict[str, Any], denominator: float | None) -> dict[str, Any]:
    """An interval divided by a non-zero amount (ends reordered when it is negative)."""
    if not denominator or i["value"] is None:
        return _interval(None, None, None)
    ends = [None if v is None else v / denominator for v in (i["low"], i["high"])]
    if ends[0] is not None and ends[1] is not None:
        ends.sort()
    return _interval(i["value"] / denominator, ends[0], ends[1])


def _scaled(row: dict[str, Any], key: str, total: float | None) -> dict[str, Any]:
    """A share of the period's outcome as an amount (with its interval where it has one)."""
    if row.get(key) is None or total is None:
        return _interval(None, None, None)
    ends = [row.get(f"{key}_{end}") for end in ("low", "high")]
    return _interval(row[key] * total, *(None if e is None else e * total for e in ends))


METHODS = {  # the ROI of each method, in the order of the chart
    "model": "media-mix model (reconciled)",
    "buyers": "what buyers say",
    "tracking": "what tracking saw",
    "lift_test": "lift test (incremental)",
    "model_on_test": "model on the same test",
}


def side_by_side(
    row: dict[str, Any], outcome_total: float | None, spend_delta: float | None
) -> dict[str, Any]:
    """One channel's figures by every method: the model's contribution, what buyers say
    (self-reported share x the period's outcome), what tracking saw (tracked share x the
    outcome), the lift test and the model's lift for that test; and each as an ROI (per
    unit of the period's spend; a lift test's per unit of the test's spend change)."""
    said = _scaled(row, "self_reported_share", outcome_total)
    tracked = _scaled(row, "tracked_share", outcome_total)
    test = _interval(
        row.get("experiment_lift"), row.get("experiment_lift_low"), row.get("experiment_lift_high")
    )
    model_test = _interval(
        row.get("model_lift"), row.get("model_lift_low"), row.get("model_lift_high")
    )
    spend = row.get("spend")
    roi = {
        "model": _interval(row.get("roi"), row.get("roi_low"), row.get("roi_high")),
        "buyers": _per(said, spend),
        "tracking": _per(tracked, spend),
        "lift_test": _per(test, spend_delta),
        "model_on_test": _per(model_test, spend_delta),
    }
    return {
        **row,
        "said": said,
        "tracked": tracked,
        "spend_delta": spend_delta,
        "roi_by_method": roi,
    }


def channel_impact_view(
    engine: Engine,
    date_from: date | None = None,
    date_to: date | None = None,
    curve_weeks: int = CURVE_WEEKS,
) -> dict[str, Any]:
    """The latest measurement's channel impact over the period, as ``GET /v1/channel-impact``
    (``api.channel_impact_payload``), every method side by side per channel, and each
    channel's response curve over the last ``curve_weeks`` measured weeks. A period with no
    measured week gives ``error`` (the message) instead of figures."""
    from api.channel_impact_payload import impact_payload
    from marketing.channel_impact import response_curves
    from marketing.errors import MarketingInputError
    from marketing.measure import impact_of_period, stored_posterior

    run = _measurement_or_none(engine)
    if run is None:
        return {"measurement": None}
    head = {k: run[k] for k in ("run_id", "as_of", "outcome", "model_version", "status", "weeks",
                                "first_week", "last_week")}  # fmt: skip
    try:
        figures = impact_of_period(engine, run, date_from, date_to)
    except MarketingInputError as exc:
        return {"measurement": head, "error": str(exc)}
    payload = impact_payload(run, figures)
    deltas = {t["experiment_id"]: t["spend_delta"]
              for t in ((run.get("evidence") or {}).get("lift_tests") or {}).get("used", [])}  # fmt: skip
    channels = [side_by_side(c, payload["outcome_total"], deltas.get(c.get("experiment_id")))
                for c in payload["channels"]]  # fmt: skip
    posterior, _ = stored_posterior(run)
    return {
        **payload,
        "measurement": head,
        "channels": sorted(channels, key=lambda c: -(c["contribution"] or 0.0)),
        "methods": METHODS,
        "curves": response_curves(posterior, weeks=curve_weeks),
        "config": run.get("config") or {},
    }


def _forecast(
    engine: Engine, weeks: int, assumptions: list[str], name: str | None
) -> dict[str, Any]:
    from marketing.errors import MarketingInputError
    from marketing.forecast_ledger import run_forecast

    try:
        return {
            "result": run_forecast(engine, weeks=weeks, assumptions=assumptions, name=name),
            "error": None,
        }
    except MarketingInputError as exc:
        return {"result": None, "error": str(exc)}


def pipeline_view(
    engine: Engine,
    weeks: int | None = None,
    assumptions: list[str] | None = None,
    name: str | None = None,
) -> dict[str, Any]:
    """The finance side of the measurement: contribution and ROI per channel of the latest
    measurement (its whole period), the base forecast of ``weeks`` weeks (default: a
    quarter, or what the measured history supports) with the recent actual weekly outcome,
    the scenario under ``assumptions`` beside it (recorded, as ``GET /v1/forecast``), and
    the forecast ledger. Bad weeks or assumptions give ``forecast_error`` or
    ``scenario_error`` (the message), never an exception."""
    from api.channel_impact_payload import impact_payload
    from marketing.forecast import MAX_WEEKS
    from marketing.forecast_ledger import ledger
    from marketing.measure import stored_posterior

    run = _measurement_or_none(engine)
    if run is None:
        return {"measurement": None, "ledger": ledger(engine, LEDGER_ROWS)}
    posterior, _ = stored_posterior(run)
    horizon = min(MAX_WEEKS, len(posterior.weeks) // 2)
    weeks = weeks or min(FORECAST_WEEKS, horizon)
    base = _forecast(engine, weeks, [], None)
    scenario = (
        _forecast(engine, weeks, assumptions, name)
        if assumptions
        else {"result": None, "error": None}
    )
    recent = slice(max(len(posterior.weeks) - ACTUAL_WEEKS, 0), None)
    return {
        "measurement": {
            k: run[k] for k in ("run_id", "as_of", "outcome", "model_version", "status")
        },
        "impact": impact_payload(run, run["result"]),
        "weeks": weeks,
        "max_weeks": horizon,
        "forecast": base["result"],
        "forecast_error": base["error"],
        "scenario": scenario["result"],
        "scenario_error": scenario["error"],
        "assumptions": assumptions or [],
        "name": name or "",
        "actual": [
            {"week": w.isoformat(), "value": round(float(v), 2)}
            for w, v in zip(posterior.weeks[recent], posterior.outcome[recent], strict=True)
        ],  # fmt: skip
        "ledger": ledger(engine, LEDGER_ROWS),
    }
