"""GET /v1/provenance/{metric}/{id}: how a figure was computed, down to file and line.

Account metrics (``id`` = account id) come from the latest risk snapshot; their source
texts are the account's texts up to the snapshot's as-of date, newest first. Channel
metrics (``id`` = channel of the contract's taxonomy) come from the dark-funnel
measurement; their source texts are the attribution answers labeled with the channel.
``funnel`` (``id`` = a group of ``GET /v1/funnel``, or ``total``; ``from``, ``to``, ``by``
as there) gives the group's figures, the KPI definitions they follow and every lead and
opportunity counted, with file and line. ``definitions`` (``id`` = the version, or
``current``) serves the KPI definitions file with its change log.
A metric may be read by the roles whose routes show it (admin always).
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from api.deps import CurrentKey, EngineDep, ensure_role
from api.errors import AUTH_RESPONSES, NOT_FOUND_RESPONSES, SNAPSHOT_RESPONSES
from api.pagination import decode_cursor, encode_cursor
from api.routers.churn_risk import Horizon
from api.routers.dark_funnel import measure_dark_funnel
from api.routers.funnel import By as FunnelBy
from api.schemas.provenance import Provenance
from ingest.errors import InputError, NotFoundError
from nlp.channels.taxonomy import CHANNELS, DARK_CHANNELS
from nlp.evidence import account_texts
from risk.feeds import account_risk, get_run
from risk.forecast import HORIZONS

router = APIRouter(
    prefix="/v1",
    tags=["provenance"],
    responses={
        **AUTH_RESPONSES,
        **SNAPSHOT_RESPONSES,
        **NOT_FOUND_RESPONSES,
    },
)


class Metric(StrEnum):
    sentiment = "sentiment"
    sentiment_trend = "sentiment_trend"
    p_churn_90d = "p_churn_90d"
    p_expand_180d = "p_expand_180d"
    p_churn = "p_churn"
    revenue_at_risk = "revenue_at_risk"
    expected_ltv = "expected_ltv"
    self_reported_share = "self_reported_share"
    tracked_share = "tracked_share"
    influenced_arr = "influenced_arr"
    pipeline = "pipeline"
    funnel = "funnel"
    definitions = "definitions"
    contribution = "contribution"
    roi = "roi"
    marginal_roi = "marginal_roi"
    baseline = "baseline"
    dark_pipeline = "dark_pipeline"


ALL = ("sales", "finance", "marketing")
METRIC_ROLES: dict[Metric, tuple[str, ...]] = {
    Metric.sentiment: ALL,
    Metric.sentiment_trend: ALL,
    Metric.p_churn_90d: ("sales", "finance"),
    Metric.p_expand_180d: ("sales",),
    Metric.p_churn: ("finance",),
    Metric.revenue_at_risk: ("finance",),
    Metric.expected_ltv: ("finance",),
    Metric.self_reported_share: ("marketing",),
    Metric.tracked_share: ("marketing",),
    Metric.influenced_arr: ("marketing",),
    Metric.pipeline: ("marketing",),
    Metric.funnel: ALL,
    Metric.definitions: ALL,
    Metric.contribution: ("marketing", "finance"),
    Metric.roi: ("marketing", "finance"),
    Metric.marginal_roi: ("marketing", "finance"),
    Metric.baseline: ("marketing", "finance"),
    Metric.dark_pipeline: ("marketing", "finance"),
}
IMPACT_METRICS = {
    Metric.contribution,
    Metric.roi,
    Metric.marginal_roi,
    Metric.baseline,
    Metric.dark_pipeline,
}
MAX_OFFSET = 2**31 - 1  # a cursor's offset fits every store's integer
MAX_CHANNEL_TEXTS = 10_000  # answers listed behind one channel figure, at most
CHANNEL_METRICS = {
    Metric.self_reported_share,
    Metric.tracked_share,
    Metric.influenced_arr,
    Metric.pipeline,
}
METHODS = {
    Metric.sentiment: "account sentiment at as_of: weighted mean over the account's texts of "
    "the month of P(positive) - P(negative) from sentiment model {smv}, as stored by run {run}",
    Metric.sentiment_trend: "change of the account's monthly sentiment over the 90 days before "
    "as_of (texts scored by sentiment model {smv}), as stored by run {run}",
    Metric.p_churn_90d: "P(active account churns within 90 days after as_of) from survival "
    "model {mv} fitted on monthly sentiment trajectories (run {run}); interval in inputs",
    Metric.p_expand_180d: "P(active account opens an expansion opportunity, i.e. an opportunity "
    "of an existing account created after its contract start, within 180 days after as_of) "
    "from expansion model {emv}: a recurrent-event piecewise-exponential hazard over the "
    "monthly panel (sentiment trajectory, tickets, NPS, ARR, tenure, earlier expansions), "
    "calibrated in the large and back-tested out of time (run {run}; figures in inputs)",
    Metric.p_churn: "P(active account churns within {h} days after as_of) from survival model "
    "{mv} fitted on monthly sentiment trajectories (run {run}); interval in inputs",
    Metric.revenue_at_risk: "arr x p_churn({h} days) = {arr} x {p}; p_churn from survival model "
    "{mv} (run {run})",
    Metric.expected_ltv: "ARR integrated over the predicted survival curve from as_of, "
    "discounted (rate and horizon in inputs.params) by model {mv} (run {run})",
    Metric.self_reported_share: "share of the period's classified attribution answers naming "
    "the channel (marketing.dark_funnel.measure; answers classified by model {cmv})",
    Metric.tracked_share: "share of the answering accounts whose tracked_source maps onto the "
    "channel (marketing.dark_funnel.measure)",
    Metric.influenced_arr: "ARR of the accounts whose answer names the channel "
    "(marketing.dark_funnel.measure)",
    Metric.pipeline: "opportunity amount of the accounts and prospects whose answer names the "
    "channel (marketing.dark_funnel.measure)",
    Metric.funnel: "revenue funnel (marketing.funnel) under the KPI definitions version {dv}: "
    "{method}",
    Metric.definitions: "the KPI definitions file under change control ({path})",
    Metric.contribution: "expected outcome minus expected outcome without the channel's spend "
    "over the period's weeks, posterior mean and 90% interval of media-mix model {mv} "
    "(PyMC-Marketing, calibrated by the lift tests and answers in inputs; run {run})",
    Metric.roi: "contribution / spend of the period's weeks, media-mix model {mv} (run {run})",
    Metric.marginal_roi: "expected outcome of one more unit of spend at the period's level "
    "(a 1% bump, carry-over included), media-mix model {mv} (run {run})",
    Metric.baseline: "outcome of the period's weeks minus every channel's contribution, "
    "media-mix model {mv} (run {run})",
    Metric.dark_pipeline: "the new business's baseline (the outcome less existing accounts' "
    "expansions and every channel's contribution) x the dark share among the baseline's own "
    "buyers (answers non-response corrected by tracked source, less what paid buyers named "
    "for a channel they forgot or beside theirs); media-mix model {mv} (run {run})",
}


def _offset(cursor: str | None, query: str) -> tuple[str | None, int]:
    if not cursor:
        return None, 0
    run_id, offset = decode_cursor(cursor, query)
    bad = not isinstance(offset, int) or isinstance(offset, bool)
    if bad or not 0 <= offset <= MAX_OFFSET:
        raise InputError("cursor is not valid for this list: pass back next_cursor unchanged")
    return run_id, offset


def _account_provenance(
    engine: Any, metric: Metric, account_id: str, h: int, limit: int, cursor: str | None
) -> dict[str, Any]:
    query = f"prov:{metric.value}:{account_id}:{h}"
    run_id, offset = _offset(cursor, query)
    run = get_run(engine, run_id)
    risk = account_risk(engine, account_id, run_id=run["run_id"])
    if risk is None:
        raise NotFoundError(
            f"account '{account_id}' has no prediction in snapshot {run['run_id']} "
            "(unknown, or churned before as_of)"
        )
    band = risk["horizons"][str(h if metric != Metric.p_churn_90d else 90)]
    if metric == Metric.p_expand_180d and risk["p_expand_180d"] is None:
        raise NotFoundError(
            f"snapshot {run['run_id']} has no p_expand_180d for account '{account_id}' "
            "(no expansion model: ingest opportunities and refit)"
        )
    value = {
        Metric.sentiment: risk["sentiment"],
        Metric.sentiment_trend: risk["sentiment_trend"],
        Metric.p_churn_90d: risk["p_churn_90d"],
        Metric.p_expand_180d: risk["p_expand_180d"],
        Metric.p_churn: band["p_churn"],
        Metric.revenue_at_risk: band["revenue_at_risk"],
        Metric.expected_ltv: risk["expected_ltv"],
    }[metric]
    total, texts = account_texts(
        engine,
        account_id,
        model_version=run["sentiment_model_version"],
        until=run["as_of"],
        limit=limit,
        offset=offset,
    )
    expansion = (run.get("metrics") or {}).get("expansion") or {}
    method = METHODS[metric].format(
        emv=expansion.get("model_version"),
        smv=run["sentiment_model_version"],
        mv=run["model_version"],
        run=run["run_id"],
        h=h,
        arr=risk["arr"],
        p=band["p_churn"],
        cmv=None,
    )
    more = offset + len(texts) < total
    return {
        "metric": metric.value,
        "id": account_id,
        "value": value,
        "method": method,
        "model_version": run["model_version"],
        "run": run,
        "inputs": {
            "account_id": account_id,
            "as_of": run["as_of"],
            "horizon_days": h,
            "arr": risk["arr"],
            "segment": risk["segment"],
            **band,
            "sentiment": risk["sentiment"],
            "sentiment_trend": risk["sentiment_trend"],
            "expected_ltv": risk["expected_ltv"],
            "reason": risk["reason"],
            "drivers": risk["drivers"],
            "trajectory": risk["trajectory"],
            "sentiment_model_version": run["sentiment_model_version"],
            "params": run["params"],
            **(
                {
                    "p_expand_180d": risk["p_expand_180d"],
                    "expansion_reason": risk["expansion_reason"],
                    "expansion_drivers": risk["expansion_drivers"],
                    "expansion_model_version": expansion.get("model_version"),
                    "expansion_backtest": {
                        k: v
                        for k, v in (expansion.get("backtest") or {}).items()
                        if k not in ("calibration", "lists")
                    },
                    "expansion_calibration": expansion.get("calibration_in_the_large"),
                }
                if metric == Metric.p_expand_180d
                else {}
            ),
        },
        "source_texts": texts,
        "source_texts_total": total,
        "next_cursor": encode_cursor(query, run["run_id"], offset + len(texts)) if more else None,
    }


def _channel_provenance(
    engine: Any,
    metric: Metric,
    channel: str,
    date_from: date | None,
    date_to: date | None,
    limit: int,
    cursor: str | None,
) -> dict[str, Any]:
    if channel not in CHANNELS:
        raise NotFoundError(f"unknown channel '{channel}'; one of {', '.join(CHANNELS)}")
    query = f"prov:{metric.value}:{channel}:{date_from}:{date_to}"
    _, offset = _offset(cursor, query)
    figures = measure_dark_funnel(engine, date_from, date_to)
    row = next((c for c in figures.get("channels", []) if c.get("channel") == channel), None)
    from marketing.dark_funnel import channel_evidence

    answers = channel_evidence(engine, channel, date_from, date_to, limit=MAX_CHANNEL_TEXTS)
    texts = [
        {
            "document_id": a["document_id"],
            "account_id": a["account_id"],
            "kind": "attribution",
            "source_id": a["response_id"],
            "created_at": a["submitted_at"],
            "text": a["text"],
            "source_file": a["source_file"],
            "source_line": a["source_line"],
            "channel_weight": a["weight"],
            "channel_confidence": a["confidence"],
            "channel_method": a["decided_by"],
        }
        for a in answers[offset : offset + limit]
    ]
    version = figures.get("model_version")
    more = offset + len(texts) < len(answers)
    summary = {k: v for k, v in figures.items() if k not in ("channels", "trends")}
    return {
        "metric": metric.value,
        "id": channel,
        "value": None if row is None else row.get(metric.value),
        "method": METHODS[metric].format(cmv=version),
        "model_version": version,
        "run": None,
        "inputs": {"from": date_from, "to": date_to, "channel": row, "period": summary},
        "source_texts": texts,
        "source_texts_total": len(answers),
        "next_cursor": encode_cursor(query, None, offset + len(texts)) if more else None,
    }


def _impact_provenance(
    engine: Any, metric: Metric, channel: str, date_from: date | None, date_to: date | None,
    limit: int, cursor: str | None,
) -> dict[str, Any]:  # fmt: skip
    from marketing.dark_funnel import channel_evidence
    from marketing.measure import get_measurement, impact_of_period

    run = get_measurement(engine)
    query = f"prov:{metric.value}:{channel}:{date_from}:{date_to}:{run['run_id']}"
    _, offset = _offset(cursor, query)
    figures = impact_of_period(engine, run, date_from, date_to)
    totals = metric in (Metric.baseline, Metric.dark_pipeline)
    row: dict[str, Any] | None
    if totals:
        value = figures.get(metric.value)
        row = {k: figures.get(k) for k in (metric.value, f"{metric.value}_low", f"{metric.value}_high")}
        named = sorted(DARK_CHANNELS) if metric == Metric.dark_pipeline else []
    else:
        row = next((c for c in figures["channels"] if c["channel"] == channel), None)
        if row is None:
            raise NotFoundError(
                f"channel '{channel}' is not in measurement {run['run_id']}: modelled "
                + ", ".join(c["channel"] for c in figures["channels"])
            )
        value, named = row.get(metric.value), [channel]
    lo, hi = date.fromisoformat(figures["from"]), date.fromisoformat(figures["to"])
    answers = [a for c in named for a in channel_evidence(engine, c, lo, hi, limit=MAX_CHANNEL_TEXTS)]
    texts = [
        {"document_id": a["document_id"], "account_id": a["account_id"], "kind": "attribution",
         "source_id": a["response_id"], "created_at": a["submitted_at"], "text": a["text"],
         "source_file": a["source_file"], "source_line": a["source_line"],
         "channel_weight": a["weight"], "channel_confidence": a["confidence"],
         "channel_method": a["decided_by"]}
        for a in answers[offset : offset + limit]
    ]  # fmt: skip
    more = offset + len(texts) < len(answers)
    inputs = run["inputs"]
    return {
        "metric": metric.value,
        "id": channel,
        "value": value,
        "method": METHODS[metric].format(mv=run["model_version"], run=run["run_id"]),
        "model_version": run["model_version"],
        "run": None,
        "inputs": {
            "measurement_run": {k: str(run[k]) for k in ("run_id", "as_of", "status", "created_at")},
            "period": {"from": figures["from"], "to": figures["to"], "weeks": figures["weeks"]},
            "figure": row,
            "diagnostics": run["diagnostics"],
            "spend_rows": inputs.get("spend"),
            "experiments": inputs.get("experiments"),
            "answers": len(inputs.get("answers", {}).get("answers", [])),
            "channel_model_version": inputs.get("answers", {}).get("channel_model_version"),
            "definitions_version": inputs.get("definitions_version"),
            "config": run["config"],
        },
        "source_texts": texts,
        "source_texts_total": len(answers),
        "next_cursor": encode_cursor(query, None, offset + len(texts)) if more else None,
    }


def _funnel_provenance(
    engine: Any, group: str, date_from: date | None, date_to: date | None, by: str, limit: int,
    cursor: str | None,
) -> dict[str, Any]:  # fmt: skip
    from marketing.definitions import load_definitions
    from marketing.funnel import METHOD, funnel_records

    query = f"prov:funnel:{group}:{date_from}:{date_to}:{by}"
    _, offset = _offset(cursor, query)
    found = funnel_records(engine, group, date_from, date_to, by)
    defs = load_definitions()
    records = found["records"]
    page = records[offset : offset + limit]
    more = offset + len(page) < len(records)
    return {
        "metric": Metric.funnel.value,
        "id": group,
        "value": None,
        "method": METHODS[Metric.funnel].format(dv=defs.version, method=METHOD),
        "model_version": None,
        "run": None,
        "inputs": {
            "from": found["from"],
            "to": found["to"],
            "by": found["by"],
            "definitions_version": found["definitions_version"],
            "figures": found["figures"],
            "definitions": _definitions_summary(defs),
            "records": page,
            "records_total": len(records),
        },
        "source_texts": [],
        "source_texts_total": 0,
        "next_cursor": encode_cursor(query, None, offset + len(page)) if more else None,
    }


def _definitions_summary(defs: Any) -> dict[str, Any]:
    return {
        "version": defs.version,
        "effective": defs.effective,
        "path": "marketing/definitions/kpi.yaml",
        "change_log": defs.change_log,
    }


def _definitions_provenance(version: str) -> dict[str, Any]:
    from marketing.definitions import load_definitions

    defs = load_definitions()
    if version not in (defs.version, "current"):
        raise NotFoundError(
            f"definitions version '{version}' is not served: the current version is "
            f"{defs.version} (earlier versions are in its change_log)"
        )
    return {
        "metric": Metric.definitions.value,
        "id": defs.version,
        "value": None,
        "method": METHODS[Metric.definitions].format(path="marketing/definitions/kpi.yaml"),
        "model_version": None,
        "run": None,
        "inputs": {**_definitions_summary(defs), "definitions": defs.document},
        "source_texts": [],
        "source_texts_total": 0,
        "next_cursor": None,
    }


@router.get("/provenance/{metric}/{id:path}", response_model=Provenance)
def provenance(
    metric: Metric,
    id: Annotated[str, Path(max_length=128, description="account id, channel, funnel group or definitions version")],
    key: CurrentKey,
    engine: EngineDep,
    horizon_days: Horizon = Horizon(HORIZONS[0]),  # type: ignore[valid-type]
    date_from: Annotated[date | None, Query(alias="from")] = None,
    date_to: Annotated[date | None, Query(alias="to")] = None,
    limit: Annotated[int, Query(ge=1, le=200, description="source texts per page")] = 20,
    cursor: Annotated[str | None, Query(max_length=1024)] = None,
    by: Annotated[FunnelBy, Query(description="funnel metric: its grouping")] = FunnelBy.channel,
) -> dict[str, Any]:
    """Method, model version, run, inputs and the source texts (file and line) of a figure."""
    ensure_role(key, METRIC_ROLES[metric])
    if metric == Metric.funnel:
        return _funnel_provenance(engine, id, date_from, date_to, by.value, limit, cursor)
    if metric == Metric.definitions:
        return _definitions_provenance(id)
    if metric in IMPACT_METRICS:
        return _impact_provenance(engine, metric, id, date_from, date_to, limit, cursor)
    if metric in CHANNEL_METRICS:
        return _channel_provenance(engine, metric, id, date_from, date_to, limit, cursor)
    return _account_provenance(engine, metric, id, int(horizon_days), limit, cursor)
