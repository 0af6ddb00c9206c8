"""``undertow measure``: store -> weekly series and evidence -> media-mix model -> a run.

``measure_and_store(engine, as_of=None, outcome="pipeline", config=None)`` reads what the
store knew at ``as_of`` (default: the latest spend or opportunity date, never later than
today): the complete weeks (Monday to Sunday) from the first week with both spend and
outcome to the last Sunday on or before ``as_of``; the weekly outcome and spend per
channel (``marketing.weekly``); the answers submitted by ``as_of`` linked to the
opportunities of those weeks (``marketing.links``) with the channels they name
(``marketing.answer_labels``); the lift tests that ended by ``as_of``. It fits
``marketing.mmm.MediaMixModel`` and stores one ``measurement_runs`` row: the thinned
posterior, diagnostics, the evidence and the provenance of every input (spend rows by
file and line, experiment ids, answer document ids, the KPI definitions version). A run
whose sampler did not converge is stored with status ``not_converged`` and says so
wherever it is served.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable
from dataclasses import asdict, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine, insert, select

from ingest.db.schema import accounts, experiments, measurement_runs
from marketing.answer_evidence import AnswerEvidence, answer_evidence
from marketing.answer_labels import answer_labels
from marketing.channel_impact import channel_impact
from marketing.definitions import load_definitions
from marketing.errors import MarketingInputError, NoMeasurementError, NotEnoughWeeksError
from marketing.frames import leads_frame, opportunities_frame, spend_frame
from marketing.grouping import sourced_sources
from marketing.lift_tests import lift_observations
from marketing.links import answers_by_opportunity
from marketing.media_posterior import MediaPosterior
from marketing.mmm import MODEL_VERSION, MediaMixConfig, MediaMixData, MediaMixModel
from marketing.periods import week_start
from marketing.weekly import OUTCOMES, weekly_outcome, weekly_spend

Step = Callable[[str], None]


def _today() -> date:
    return datetime.now(UTC).date()


def default_as_of(engine: Engine) -> date:
    """The latest spend or opportunity date, never after today."""
    opps, spend = opportunities_frame(engine), spend_frame(engine)
    days = [d for d in (opps["created_at"].max(), spend["date"].max()) if pd.notna(d)]
    if not days:
        raise NotEnoughWeeksError("the store has no spend and no opportunities: ingest them first")
    return min(max(pd.Timestamp(d).date() for d in days), _today())


def model_weeks(engine: Engine, as_of: date) -> tuple[date, date]:
    """(first Monday, last Monday) of the complete weeks to model (module docstring)."""
    last = as_of - timedelta(days=(as_of.weekday() + 1) % 7) - timedelta(days=6)
    spend, opps = spend_frame(engine), opportunities_frame(engine)
    spend = spend[spend["date"] <= pd.Timestamp(as_of)]
    opps = opps[opps["created_at"] < pd.Timestamp(as_of + timedelta(days=1))]
    if spend.empty:
        raise NotEnoughWeeksError("no spend stored on or before as-of: ingest spend first")
    if opps.empty:
        raise NotEnoughWeeksError("no opportunities stored on or before as-of: ingest them first")
    first = max(week_start(spend["date"].min().date()), week_start(opps["created_at"].min().date()))
    if first > last:
        raise NotEnoughWeeksError(
            f"no complete week with both spend and opportunities before {as_of}"
        )
    return first, last


def new_business(engine: Engine, opps: pd.DataFrame) -> pd.Series:
    """Which opportunities are new business (KPI definitions, ``new_business``): a
    prospect's, or an account's own up to ``new_business_days`` after its contract start."""
    days = int(load_definitions().document["new_business"]["new_business_days"])
    with engine.connect() as conn:
        rows = conn.execute(select(accounts.c.account_id, accounts.c.contract_start)).all()
    start = pd.Series({a: pd.Timestamp(s) for a, s in rows}, dtype="datetime64[ns]")
    began = opps["account_id"].map(start)
    return ~opps["resolved"].astype(bool) | began.isna() | (
        opps["created_at"] <= began + pd.Timedelta(days=days + 1)
    )


def _evidence(
    engine: Engine, first: date, last: date, as_of: date
) -> tuple[AnswerEvidence, dict[str, Any]]:
    """The answers' evidence on the modelled weeks' new-business opportunities (expansions
    are baseline: answers do not speak for them), and its provenance."""
    opps, leads = opportunities_frame(engine), leads_frame(engine)
    lo, hi = pd.Timestamp(first), pd.Timestamp(last + timedelta(days=7))
    opps = opps.assign(tracked_source=sourced_sources(opps, leads))
    opps = opps[(opps["created_at"] >= lo) & (opps["created_at"] < hi)]
    opps = opps[new_business(engine, opps).to_numpy()]
    links = answers_by_opportunity(engine, date_to=as_of)
    links = links[links["opportunity_row"].isin(opps["id"])]
    labels, version = answer_labels(engine, links[["document_id"]].drop_duplicates())
    credits = links[["document_id", "opportunity_row"]].merge(labels, on="document_id")
    credits = credits.rename(columns={"opportunity_row": "opportunity_id"})
    frame = pd.DataFrame({
        "opportunity_id": opps["id"].to_numpy(), "created_at": opps["created_at"].to_numpy(),
        "amount": opps["amount"].to_numpy(), "tracked_source": opps["tracked_source"].to_numpy(),
    })  # fmt: skip
    evidence = answer_evidence(frame, credits[["opportunity_id", "channel", "weight"]])
    provenance = {
        "opportunities": int(len(opps)),
        "pipeline": round(float(opps["amount"].sum()), 2),
        "answers": sorted(int(i) for i in links["document_id"].unique()),
        "channel_model_version": version,
    }
    return evidence, provenance


def _experiments(engine: Engine, as_of: date) -> pd.DataFrame:
    e = experiments.c
    q = select(
        e.experiment_id, e.channel, e.start_date.label("start"), e.end_date.label("end"),
        e.spend_delta, e.outcome, e.lift, e.lift_low, e.lift_high, e.design, e.source_file,
        e.source_line,
    ).where(e.end_date <= as_of)  # fmt: skip
    with engine.connect() as conn:
        rows = conn.execute(q).mappings().all()
    return pd.DataFrame([dict(r) for r in rows])


def _spend_provenance(engine: Engine, first: date, last: date) -> dict[str, Any]:
    rows = spend_frame(engine)
    rows = rows[(rows["date"] >= pd.Timestamp(first)) & (rows["date"] < pd.Timestamp(last + timedelta(days=7)))]
    files = (
        rows.groupby("source_file")["source_line"].agg(["min", "max", "count"]).reset_index()
        .rename(columns={"min": "first_line", "max": "last_line", "count": "rows"})
    )  # fmt: skip
    digest = hashlib.sha256(
        pd.util.hash_pandas_object(rows[["date", "channel", "spend"]], index=False).to_numpy().tobytes()
    ).hexdigest()[:32]
    return {
        "rows": int(len(rows)),
        "total": round(float(rows["spend"].sum()), 2),
        "files": files.to_dict("records"),
        "digest": digest,
    }


def measurement_data(
    engine: Engine, as_of: date, outcome: str
) -> tuple[MediaMixData, dict[str, Any]]:
    """The model's input as known at ``as_of``, and its provenance."""
    if outcome not in OUTCOMES:
        raise MarketingInputError(f"outcome must be one of {', '.join(OUTCOMES)}, got {outcome!r}")
    first, last = model_weeks(engine, as_of)
    y = weekly_outcome(engine, outcome, first, last)  # type: ignore[arg-type]
    long = weekly_spend(engine, first, last)
    weeks = list(y["week"])
    spend = (
        long.pivot_table(index="week", columns="channel", values="spend", aggfunc="sum")
        .reindex(weeks).fillna(0.0)
    ) if len(long) else pd.DataFrame(index=weeks)  # fmt: skip
    evidence, answers_prov = _evidence(engine, first, last, as_of)
    exps = _experiments(engine, as_of)
    lifts = lift_observations(exps, weeks, [str(c) for c in spend.columns], outcome)
    data = MediaMixData(
        weeks=weeks, outcome=y["value"].to_numpy(dtype=float), spend=spend,
        answers=evidence if outcome == "pipeline" else None, lifts=lifts,
    )  # fmt: skip
    provenance = {
        "as_of": as_of.isoformat(),
        "weeks": {"first": first.isoformat(), "last": last.isoformat(), "count": len(weeks)},
        "spend": _spend_provenance(engine, first, last),
        "experiments": [
            {"experiment_id": r["experiment_id"], "source_file": r["source_file"],
             "source_line": r["source_line"]}
            for r in (exps.to_dict("records") if len(exps) else [])
        ],  # fmt: skip
        "answers": answers_prov,
        "definitions_version": load_definitions().version,
    }
    return data, provenance


def _evidence_summary(data: MediaMixData, model: MediaMixModel) -> dict[str, Any]:
    ev = data.answers
    return {
        "answers": None if ev is None else {
            "opportunities": ev.opportunities, "answered": ev.answered,
            "response_rate": round(ev.response_rate, 4),
            "shares": ev.shares.round(5).to_dict("records"),
            "tracked_shares": ev.tracked_shares.round(5).to_dict("records"),
            "dark_share": round(ev.dark_share, 5), "dark_share_se": round(ev.dark_share_se, 5),
            "agreement": ev.agreement.to_dict("records"),
        },
        "lift_tests": {
            "used": [
                {"experiment_id": o.experiment_id, "channel": o.channel, "start": o.start.isoformat(),
                 "end": o.end.isoformat(), "spend_delta": o.spend_delta, "lift": o.lift,
                 "lift_low": o.lift_low, "lift_high": o.lift_high, "se": round(o.se, 2)}
                for o in data.lifts.used
            ],
            "unused": data.lifts.unused,
        },  # fmt: skip
        "skipped_channels": model.skipped_channels_,
    }


def measure_and_store(
    engine: Engine,
    as_of: date | None = None,
    outcome: str = "pipeline",
    config: MediaMixConfig | None = None,
    on_step: Step | None = None,
) -> dict[str, Any]:
    """Fit and store one measurement run (module docstring); the stored row as a dict."""
    step = on_step or (lambda _msg: None)
    as_of = as_of or default_as_of(engine)
    if as_of > _today():
        raise MarketingInputError(f"--as-of {as_of} is in the future (today is {_today()})")
    step("reading spend, outcome, answers and lift tests")
    data, provenance = measurement_data(engine, as_of, outcome)
    config = config or MediaMixConfig()
    if outcome != "pipeline":
        config = replace(config, use_answers=False)
    step(f"sampling the media-mix model ({len(data.weeks)} weeks x {data.spend.shape[1]} channels)")
    model = MediaMixModel(config).fit(data)
    posterior = model.posterior_
    step("computing channel impact")
    lift_draws = {k: v.tolist() for k, v in model.lift_draws_.items()}
    result = channel_impact(posterior, data.answers, data.lifts, model.lift_draws_)
    diagnostics = model.diagnostics_
    row = {
        "run_id": str(uuid.uuid4()),
        "as_of": as_of,
        "outcome": outcome,
        "created_at": datetime.now(UTC).replace(tzinfo=None),
        "model_version": MODEL_VERSION,
        "status": "ok" if diagnostics["converged"] else "not_converged",
        "weeks": len(data.weeks),
        "first_week": data.weeks[0],
        "last_week": data.weeks[-1],
        "config": json.loads(json.dumps(asdict(config))),
        "diagnostics": diagnostics,
        "evidence": _evidence_summary(data, model),
        "inputs": provenance,
        "posterior": {**posterior.to_dict(), "lift_draws": lift_draws},
        "result": result,
    }
    with engine.begin() as conn:
        conn.execute(insert(measurement_runs).values(**row))
    return row


def get_measurement(engine: Engine, run_id: str | None = None) -> dict[str, Any]:
    """A stored run (default: the latest by creation); NoMeasurementError if none."""
    q = select(measurement_runs)
    q = (q.where(measurement_runs.c.run_id == run_id) if run_id
         else q.order_by(measurement_runs.c.created_at.desc()).limit(1))  # fmt: skip
    with engine.connect() as conn:
        row = conn.execute(q).mappings().first()
    if row is None:
        raise NoMeasurementError() if run_id is None else NoMeasurementError(f"no measurement run {run_id!r}")
    return dict(row)


def stored_posterior(run: dict[str, Any]) -> tuple[MediaPosterior, dict[str, np.ndarray]]:
    """The run's posterior and its lift-test draws."""
    post = dict(run["posterior"])
    lift = {k: np.asarray(v, dtype=float) for k, v in (post.pop("lift_draws", {}) or {}).items()}
    return MediaPosterior.from_dict(post), lift


def impact_of_period(
    engine: Engine, run: dict[str, Any], date_from: date | None, date_to: date | None
) -> dict[str, Any]:
    """The run's figures for the weeks of [from, to]; answers re-read for that period."""
    posterior, lift_draws = stored_posterior(run)
    if date_from is None and date_to is None:
        return dict(run["result"])
    inside = [w for w in posterior.weeks if (date_from is None or w >= date_from)
              and (date_to is None or w <= date_to)]  # a week belongs to its Monday's period
    if not inside:
        raise MarketingInputError(
            f"the measured weeks are {posterior.weeks[0]} to {posterior.weeks[-1]}: "
            f"the period {date_from} to {date_to} has none of them"
        )
    first, last = inside[0], inside[-1]
    answers = None
    if run["outcome"] == "pipeline":
        answers, _ = _evidence(engine, first, last, run["as_of"])
    lifts = lift_observations(_experiments(engine, run["as_of"]), posterior.weeks,
                              posterior.channels, run["outcome"])  # fmt: skip
    return channel_impact(posterior, answers, lifts, lift_draws, first, last)


