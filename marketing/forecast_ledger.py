"""Forecasts stored, listed and judged across planning cycles.

``run_forecast(engine, weeks, assumptions, ...)`` forecasts from the latest measurement
(or the latest one as of a date), records the forecast (``forecast_runs``) and its weekly
quantiles (``forecast_weeks``), and first judges every recorded week that has passed
since: its ``actual`` is the outcome the store now holds for that week (weekly series of
``marketing.weekly``), once the store's data reach the week's end. The same forecast
asked again (same measurement, weeks, assumptions and seed) is the stored one, not a new
record. ``ledger(engine)`` says how accurate the recorded forecasts have been: per
forecast, the share of judged weeks inside P10-P90, the P50 error of the judged weeks,
and, once all its weeks are judged, its total against P10/P50/P90.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import Engine, insert, select, update

from ingest.db.schema import forecast_runs, forecast_weeks, measurement_runs
from marketing.definitions import load_definitions
from marketing.errors import NoMeasurementError
from marketing.forecast import forecast
from marketing.frames import opportunities_frame
from marketing.measure import get_measurement, stored_posterior
from marketing.weekly import weekly_outcome


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def measurement_as_of(engine: Engine, as_of: date | None) -> dict[str, Any]:
    """The latest measurement (default), or the latest one measured as of ``as_of`` or
    before; NoMeasurementError says what to run."""
    if as_of is None:
        return get_measurement(engine)
    q = (
        select(measurement_runs.c.run_id)
        .where(measurement_runs.c.as_of <= as_of)
        .order_by(measurement_runs.c.as_of.desc(), measurement_runs.c.created_at.desc())
        .limit(1)
    )
    with engine.connect() as conn:
        run_id = conn.execute(q).scalar()
    if run_id is None:
        raise NoMeasurementError(
            f"no measurement as of {as_of} or earlier: run `undertow measure --as-of {as_of}`"
        )
    return get_measurement(engine, run_id)


def _data_end(engine: Engine) -> date | None:
    opps = opportunities_frame(engine)
    return None if opps.empty else pd.Timestamp(opps["created_at"].max()).date()


def judge_passed_weeks(engine: Engine) -> int:
    """Fill ``actual`` of recorded weeks whose end the store's data have reached."""
    end = _data_end(engine)
    if end is None:
        return 0
    q = (
        select(forecast_weeks.c.run_id, forecast_weeks.c.week, forecast_runs.c.outcome)
        .join(forecast_runs, forecast_runs.c.run_id == forecast_weeks.c.run_id)
        .where(forecast_weeks.c.actual.is_(None), forecast_weeks.c.week <= end - timedelta(days=6))
    )
    with engine.connect() as conn:
        pending = conn.execute(q).all()
    if not pending:
        return 0
    first, last = min(p.week for p in pending), max(p.week for p in pending)
    actual: dict[tuple[str, date], float] = {}
    for outcome in {p.outcome for p in pending}:
        series = weekly_outcome(engine, outcome, first, last)
        for w, v in zip(series["week"], series["value"], strict=True):
            actual[(outcome, w)] = float(v)
    now = _now()
    with engine.begin() as conn:
        for p in pending:
            conn.execute(
                update(forecast_weeks)
                .where(forecast_weeks.c.run_id == p.run_id, forecast_weeks.c.week == p.week)
                .values(actual=actual.get((p.outcome, p.week), 0.0), judged_at=now)
            )
    return len(pending)


def _key(run_id: str, weeks: int, assumptions: list[str], seed: int) -> str:
    text = json.dumps([run_id, weeks, sorted(a.strip() for a in assumptions), seed])
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def run_forecast(
    engine: Engine,
    weeks: int = 13,
    assumptions: list[str] | None = None,
    as_of: date | None = None,
    name: str | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """Forecast, record and return (module docstring)."""
    assumptions = list(assumptions or [])
    measurement = measurement_as_of(engine, as_of)
    posterior, _ = stored_posterior(measurement)
    result = forecast(posterior, weeks, assumptions, seed=seed)
    judge_passed_weeks(engine)
    key = _key(measurement["run_id"], weeks, assumptions, seed)
    with engine.connect() as conn:
        stored = conn.execute(
            select(forecast_runs.c.run_id).where(forecast_runs.c.run_id == key)
        ).scalar()
    if stored is None:
        row = {
            "run_id": key, "measurement_run_id": measurement["run_id"],
            "name": (name or "").strip()[:128] or None, "created_at": _now(),
            "as_of": measurement["as_of"], "outcome": measurement["outcome"], "weeks": weeks,
            "assumptions": result["assumptions"],
            "definitions_version": load_definitions().version, "result": result,
        }  # fmt: skip
        with engine.begin() as conn:
            conn.execute(insert(forecast_runs).values(**row))
            conn.execute(insert(forecast_weeks), [
                {"run_id": key, "week": date.fromisoformat(w["week"]), "p10": w["p10"],
                 "p50": w["p50"], "p90": w["p90"]}
                for w in result["weeks"]
            ])  # fmt: skip
    return {
        "forecast_id": key,
        "measurement_run_id": measurement["run_id"],
        "as_of": str(measurement["as_of"]),
        "outcome": measurement["outcome"],
        "model_version": measurement["model_version"],
        "measurement_status": measurement["status"],
        "definitions_version": load_definitions().version,
        "name": name,
        **result,
    }


def ledger(engine: Engine, limit: int = 50) -> list[dict[str, Any]]:
    """Recorded forecasts, newest first, each with how it has turned out so far."""
    judge_passed_weeks(engine)
    with engine.connect() as conn:
        runs = conn.execute(
            select(forecast_runs).order_by(forecast_runs.c.created_at.desc()).limit(limit)
        ).mappings().all()
        ids = [r["run_id"] for r in runs]
        rows = conn.execute(select(forecast_weeks).where(forecast_weeks.c.run_id.in_(ids))).mappings().all() if ids else []
    by_run: dict[str, list[Any]] = {}
    for r in rows:
        by_run.setdefault(r["run_id"], []).append(r)
    out = []
    for run in runs:
        weeks = sorted(by_run.get(run["run_id"], []), key=lambda r: r["week"])
        judged = [w for w in weeks if w["actual"] is not None]
        inside = sum(1 for w in judged if w["p10"] <= w["actual"] <= w["p90"])
        errors = [abs(w["p50"] - w["actual"]) / w["actual"] for w in judged if w["actual"]]
        entry: dict[str, Any] = {
            "forecast_id": run["run_id"], "name": run["name"], "created_at": run["created_at"].isoformat(),
            "as_of": str(run["as_of"]), "outcome": run["outcome"], "weeks": run["weeks"],
            "assumptions": run["assumptions"], "total": run["result"].get("total"),
            "weeks_judged": len(judged),
            "weekly_coverage_p10_p90": round(inside / len(judged), 4) if judged else None,
            "weekly_p50_mape": round(sum(errors) / len(errors), 4) if errors else None,
            "total_actual": None, "total_inside_p10_p90": None, "total_p50_error": None,
        }  # fmt: skip
        if weeks and len(judged) == len(weeks):
            actual = sum(w["actual"] for w in judged)
            total = run["result"]["total"]
            entry["total_actual"] = round(actual, 2)
            entry["total_inside_p10_p90"] = total["p10"] <= actual <= total["p90"]
            entry["total_p50_error"] = round((total["p50"] - actual) / actual, 4) if actual else None
        out.append(entry)
    return out
