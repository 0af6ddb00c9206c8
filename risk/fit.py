"""One risk fit, end to end: store -> panel -> back-test -> model -> forecast -> snapshot.

``fit_and_store(engine, settings, as_of=None, on_progress=None)`` is what ``undertow fit``
calls; it returns a ``StoredFit`` (the CLI shapes its JSON in ``api.commands.fitting``). It reads the store as known at ``as_of`` (default: the latest event
date in the store, see ``risk.inputs``), back-tests out of time, fits the final model on
all history up to ``as_of``, forecasts every active account, and writes one snapshot:
``risk_runs`` (params incl. the persisted model, metrics incl. the back-test and the
revenue risk), ``risk_predictions``, ``risk_trajectories`` and ``forecast_ledger`` (and
judges earlier forecasts that have come due). Everything is deterministic for a given
store and ``as_of``: data dated after ``as_of`` cannot change the snapshot.

Model choice (``choose_model``): every candidate of ``FitConfig.candidates`` (the
piecewise-exponential hazard model ``pem`` and lifelines' Cox time-varying model
``cox_tv``) is back-tested on the same rolling origins; the full-feature model with the
lowest out-of-time integrated Brier score wins, and candidates within 1 % of the best
Brier score are separated by the higher C-index (then by the order of
``FitConfig.candidates``, simplest first). Every candidate's figures are stored in
``risk_runs.metrics["candidates"]``. ``cox_tv`` is skipped when the panel has more than
``FitConfig.cox_tv_max_rows`` rows (lifelines scans every row at every event time: about
6 s a fit at 150k rows here, so a 1.5M-row panel would not fit in the 5-minute budget).

Calibration in the large: the chosen model, refitted on all history, has its baseline
hazard scaled by ``risk.backtest.calibration_factor`` of its own pooled back-test
(observed vs expected churns out of time, shrunk toward 1), stored in
``metrics["calibration_in_the_large"]`` and in the persisted model (``calibration``).

Nothing is written unless every figure is finite: a non-finite prediction raises before
the snapshot's transaction (so a fit never commits a snapshot and then fails), and an
account whose stored ARR is beyond ``ingest.records.MAX_MONEY`` (a store older than
that bound) is refused by name before the fit starts.

The sales lists' models (``risk.signals``: the expansion model and the out-of-time list
check) run after the churn model is chosen and are stored with the same snapshot
(``p_expand_180d`` per account, ``metrics["expansion"]`` and ``metrics["lists"]``).

``on_progress(n)`` is called with 1 after each of ``FIT_STEPS`` stages.
"""

from __future__ import annotations

import hashlib
import json
import math
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine, insert

from ingest.db.schema import risk_predictions, risk_runs, risk_trajectories
from nlp.engines import ComputeEngine, release_memory
from risk import ledger
from risk.backtest import (
    CALIBRATION_PRIOR_EVENTS,
    BacktestConfig,
    ModelFactory,
    calibration_factor,
    fit_group,
    start_candidates,
)
from risk.errors import NotEnoughDataError, RiskError, RiskInputError
from risk.forecast import HORIZONS, Forecast, ForecastConfig, start_forecast
from risk.inputs import RiskInputs, load_inputs
from risk.ltv import LtvConfig
from risk.signals import SignalsConfig, SignalsFit, prediction_fields, start_signals
from risk.survival.base import SurvivalModel
from risk.survival.cox_tv import CoxTimeVaryingModel
from risk.survival.pem import PiecewiseExponentialModel
from risk.trajectories import Panel, TrajectoryConfig, build_panel, panel_size

FIT_STEPS = 5
FULL = ("text", "activity", "crm")  # the feature groups of the model a fit stores
# what a fit's tasks import: Ray workers load them as they start (``nlp.engines``)
RAY_PRELOAD = ("risk.fit", "lifelines.utils")
BATCH = 5_000
TRAJECTORY_MONTHS = 24


@dataclass(frozen=True)
class FitConfig:
    trajectories: TrajectoryConfig = field(default_factory=TrajectoryConfig)
    backtest: BacktestConfig = field(default_factory=BacktestConfig)
    forecast: ForecastConfig = field(default_factory=ForecastConfig)
    ltv: LtvConfig = field(default_factory=LtvConfig)
    penalty: float = 2.0
    sentiment_model_version: str | None = None
    candidates: tuple[str, ...] = ("pem", "cox_tv")
    cox_tv_max_rows: int = 400_000
    signals: SignalsConfig = field(default_factory=SignalsConfig)

    def factory(self, features: list[str]) -> SurvivalModel:
        """The default model (piecewise-exponential), used when no back-test can choose."""
        return PiecewiseExponentialModel(features, penalty=self.penalty)

    def factory_for(self, kind: str) -> ModelFactory:
        """A factory of one candidate model kind (features -> unfitted model)."""
        if kind == "pem":
            return self.factory
        if kind == "cox_tv":
            return lambda f: CoxTimeVaryingModel(
                CoxTimeVaryingModel.covariates(f), penalty=self.penalty
            )
        raise RiskInputError(f"unknown model kind {kind!r}; expected one of pem, cox_tv")

    def usable_candidates(self, panel_rows: int) -> tuple[list[str], dict[str, str]]:
        """The candidates to back-test at this panel size, and why the others are skipped."""
        use, skipped = [], {}
        for kind in self.candidates:
            if kind == "cox_tv" and panel_rows > self.cox_tv_max_rows:
                skipped[kind] = (
                    f"panel has {panel_rows:,} rows > cox_tv_max_rows {self.cox_tv_max_rows:,} "
                    "(lifelines' fit grows with rows x event times; see risk.fit)"
                )
            else:
                use.append(kind)
        return use, skipped


IBS_TIE = 0.01
CHOICE_RULE = (
    "lowest out-of-time integrated Brier score of the full model; candidates within 1% of "
    "the best are separated by the higher C-index, then by candidate order (simplest first)"
)


def choose_model(order: list[str], backtests: dict[str, dict[str, Any]]) -> tuple[str, str]:
    """(chosen kind, why) by ``CHOICE_RULE`` over the candidates' back-tests."""
    scored = {}
    for kind in order:
        full = backtests.get(kind, {}).get("models", {}).get("full", {})
        if full.get("integrated_brier") is not None:
            scored[kind] = full
    if not scored:
        return order[0], f"no candidate could be back-tested: the default ({order[0]})"
    best = min(v["integrated_brier"] for v in scored.values())
    near = [
        k for k in order if k in scored and scored[k]["integrated_brier"] <= best * (1 + IBS_TIE)
    ]
    chosen = max(near, key=lambda k: (scored[k].get("c_index") or 0.0, -order.index(k)))
    figures = ", ".join(
        f"{k}: IBS {v['integrated_brier']:.4f}, C-index {v.get('c_index') or float('nan'):.3f}"
        for k, v in scored.items()
    )
    return chosen, f"{chosen} chosen by back-test ({figures})"


def candidate_summary(
    backtests: dict[str, dict[str, Any]], skipped: dict[str, str], chosen: str
) -> dict[str, Any]:
    """Every candidate's back-test figures (calibration tables left out) for the metrics."""
    out: dict[str, Any] = {}
    for kind, bt in backtests.items():
        if bt.get("status") in ("failed", "skipped"):
            out[kind] = {"status": bt["status"], "reason": bt.get("reason"), "chosen": False}
            continue
        out[kind] = {
            "status": "ok",
            "chosen": kind == chosen,
            **{
                name: {k: v for k, v in res.items() if k != "calibration"}
                for name, res in bt.get("models", {}).items()
            },
        }
    for kind, why in skipped.items():
        out[kind] = {"status": "skipped", "reason": why, "chosen": False}
    return out


@dataclass
class FitResult:
    """Everything a fit computed, before it is stored."""

    inputs: RiskInputs
    panel: Panel
    model: SurvivalModel
    forecast: Forecast
    backtest: dict[str, Any] | None
    model_version: str
    candidates: dict[str, Any] = field(default_factory=dict)
    choice: dict[str, Any] = field(default_factory=dict)
    signals: SignalsFit | None = None


def _clean(value: Any) -> Any:
    """JSON-safe: NaN/inf -> None, numpy scalars -> Python, recursively."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _rounded(value: Any) -> Any:
    """Floats to 8 significant digits, so the version hash ignores last-bit noise."""
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    if isinstance(value, float):
        return float(f"{value:.8g}")
    return value


def compute_fit(
    inputs: RiskInputs,
    config: FitConfig | None = None,
    on_progress: Callable[[int], None] | None = None,
    compute: ComputeEngine | None = None,
) -> FitResult:
    """The fit without the store: panel, back-test, final model, forecast, the sales
    lists' models. ``compute`` (``nlp.engines``) runs the back-test's origins and
    judgements, the expansion back-test's origins and the forecast's chunks; the result
    is the same on every engine.

    The driver's own numerics run on one BLAS thread, as tasks do
    (``nlp.engines.one_thread``). Its matrices are small (Newton steps over a few dozen
    features), and a second OpenBLAS thread mostly spun: at 100k accounts the local fit
    took the same wall time with one thread and about 5% less CPU. On a cluster the driver
    shares its machine with workers, which need those cores."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        return _compute_fit(inputs, config, on_progress, compute)


def _compute_fit(
    inputs: RiskInputs,
    config: FitConfig | None,
    on_progress: Callable[[int], None] | None,
    compute: ComputeEngine | None,
) -> FitResult:
    cfg = config or FitConfig()
    step = on_progress or (lambda n: None)
    kinds, skipped = cfg.usable_candidates(panel_size(inputs, cfg.trajectories))
    pending = start_candidates(
        inputs, {k: cfg.factory_for(k) for k in kinds}, cfg.trajectories, cfg.backtest, compute
    )
    # with one candidate the churn model's kind is known now: a cluster starts the risk
    # list check beside the expansion back-test, sharing the origin they both have
    known = cfg.factory_for(kinds[0]) if len(kinds) == 1 else None
    signals_pending = start_signals(inputs, cfg.trajectories, cfg.signals, compute, known)
    panel = build_panel(inputs, cfg.trajectories)  # meanwhile, on a cluster
    release_memory()  # the build's temporaries, before today's models are fitted on it
    step(1)
    events = int(panel.rows["event"].sum())
    # with one candidate the final model is known already: start the risk list check and
    # fit the final model while the back-test runs; today's expansion model too
    early = None
    if len(kinds) == 1 and events >= 5:
        signals_pending.start_lists(cfg.factory_for(kinds[0]))
        early = fit_group(cfg.factory_for(kinds[0]), panel, FULL)
    if events >= 5:
        signals_pending.prefit(panel)
    try:
        backtests = pending.result(panel)
    except NotEnoughDataError as exc:
        backtests = {k: {"status": "skipped", "reason": str(exc)} for k in kinds}
    chosen, why = choose_model(kinds, backtests)
    bt: dict[str, Any] | None = backtests.get(chosen)
    step(1)
    if events < 5:
        raise NotEnoughDataError(
            f"need at least 5 churn events before {inputs.as_of.date()} to fit, "
            f"got {events}: ingest more account history"
            + (f" ({inputs.note})" if inputs.note else "")
        )
    try:
        model = early or fit_group(cfg.factory_for(chosen), panel, FULL)
    except RiskError as exc:  # a candidate that back-tested may still fail on all history
        if chosen == kinds[0]:
            raise
        why = f"{chosen} failed on the full history ({exc}); fell back to {kinds[0]}"
        chosen, bt = kinds[0], backtests.get(kinds[0])
        model = fit_group(cfg.factory_for(chosen), panel, FULL)
    signals_pending.start_lists(cfg.factory_for(chosen))
    full = (bt or {}).get("models", {}).get("full", {})
    factor = calibration_factor(full.get("expected"), full.get("observed"))
    model.calibration_ = math.log(factor)
    step(1)
    # the forecast's chunks run on a cluster while the driver finishes the sales lists
    pending_forecast = start_forecast(model, panel.current, cfg.forecast, cfg.ltv, compute)
    signals = signals_pending.result(panel, cfg.factory_for(chosen))
    fc = pending_forecast()
    step(1)
    state = json.dumps(
        [_rounded(model.to_dict()), inputs.sentiment_model_version, inputs.as_of.isoformat()],
        sort_keys=True,
        default=str,
    )
    version = f"{model.kind}-v{model.version}-{hashlib.sha256(state.encode()).hexdigest()[:12]}"
    return FitResult(
        inputs,
        panel,
        model,
        fc,
        bt,
        version,
        candidate_summary(backtests, skipped, chosen),
        {"chosen": chosen, "why": why, "rule": CHOICE_RULE, "candidates": list(cfg.candidates)},
        signals,
    )


def metrics_of(result: FitResult) -> dict[str, Any]:
    """The run's metrics: headline back-test figures of the full model, the whole back-test,
    revenue risk and expected churn counts."""
    bt = result.backtest or {}
    full = bt.get("models", {}).get("full", {})
    h = bt.get("horizon_days", 180)
    pred = result.forecast.predictions
    out: dict[str, Any] = {
        "c_index": full.get("c_index"),
        "integrated_brier": full.get("integrated_brier"),
        f"auc_{h}d": full.get(f"auc_{h}d"),
        "auc_180d": full.get("auc_180d"),
        "auc_90d": full.get("auc_90d"),
        "ici": full.get("ici"),
        "lead_time_days": full.get("lead_time_days"),
        "backtest": bt,
        "revenue_risk": result.forecast.revenue_risk,
        "expected_churns": {str(h): round(float(pred[f"p_churn_{h}d"].sum()), 2) for h in HORIZONS},
        "events_in_history": int(result.panel.rows["event"].sum()),
        "model_choice": result.choice,
        "calibration_in_the_large": {
            "factor": round(math.exp(result.model.calibration_), 4),
            "backtest_expected": full.get("expected"),
            "backtest_observed": full.get("observed"),
            "prior_events": CALIBRATION_PRIOR_EVENTS,
            "rule": "(observed + k) / (expected + k) of the chosen model's pooled back-test, "
            "clipped to [0.5, 2]; scales the baseline hazard",
        },
        "candidates": result.candidates,
        **(result.signals.metrics() if result.signals else {}),
    }
    return _clean(out)


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _check_finite(rows: list[dict[str, Any]]) -> None:
    """RiskError naming the first account with a non-finite figure (nothing is stored)."""
    for row in rows:
        for name, value in row.items():
            if isinstance(value, float) and not math.isfinite(value):
                raise RiskError(
                    f"the fit produced {name} = {value} for account {row['account_id']}: "
                    "no snapshot stored"
                )


def check_money(inputs: RiskInputs) -> None:
    """RiskInputError naming the first account whose ARR is not a usable amount."""
    from ingest.records import MAX_MONEY

    arr = inputs.accounts["arr"].astype(float)
    bad = ~np.isfinite(arr) | (arr < 0) | (arr > MAX_MONEY)
    if bad.any():
        row = inputs.accounts[bad].iloc[0]
        raise RiskInputError(
            f"account {row['account_id']} has arr {row['arr']:g}, outside 0 to {MAX_MONEY:g}: "
            "correct it and ingest the account again"
        )


@dataclass
class StoredFit:
    """A fit and the snapshot it wrote."""

    result: FitResult
    run_id: str
    metrics: dict[str, Any]
    ledger: dict[str, Any]


def store(engine: Engine, result: FitResult, config: FitConfig) -> StoredFit:
    """Write the snapshot, record its forecasts, judge earlier ones."""
    run_id = str(uuid.uuid4())
    as_of = result.inputs.as_of.date()
    metrics = metrics_of(result)
    params = _clean(
        {
            "model": result.model.to_dict(),
            "trajectories": asdict(config.trajectories),
            "forecast": config.forecast.as_dict(),
            "ltv": config.ltv.as_dict(),
            "backtest": config.backtest.as_dict(),
            "feature_groups": result.panel.groups,
            "as_of_rule": "latest event date in the store unless --as-of is given",
        }
    )
    pred = result.forecast.predictions
    extra = prediction_fields(pred, result.signals)
    rows = []
    for r in pred.to_dict("records"):
        row = {k: r[k] for k in ("account_id", "segment", "reason")}
        row.update(run_id=run_id, arr=float(r["arr"]), expected_ltv=float(r["expected_ltv"]))
        row["sentiment"] = None if pd.isna(r.get("sentiment")) else float(r["sentiment"])
        row["sentiment_trend"] = (
            None if pd.isna(r.get("sentiment_trend")) else float(r["sentiment_trend"])
        )
        for h in HORIZONS:
            for suffix in ("", "_low", "_high"):
                row[f"p_churn_{h}d{suffix}"] = float(r[f"p_churn_{h}d{suffix}"])
        row["drivers"] = _clean(r["drivers"])
        row.update(_clean(extra.get(r["account_id"], {})))
        rows.append(row)
    _check_finite(rows)
    monthly = result.panel.monthly
    start = result.inputs.as_of.to_period("M").to_timestamp() - pd.DateOffset(
        months=TRAJECTORY_MONTHS - 1
    )
    monthly = monthly[monthly["month"] >= start]
    with engine.begin() as conn:
        conn.execute(
            insert(risk_runs),
            [
                {
                    "run_id": run_id,
                    "as_of": as_of,
                    "created_at": _now(),
                    "model_version": result.model_version,
                    "sentiment_model_version": result.inputs.sentiment_model_version,
                    "status": "complete",
                    "n_accounts": len(pred),
                    "params": params,
                    "metrics": metrics,
                }
            ],
        )
        for lo in range(0, len(rows), BATCH):
            conn.execute(insert(risk_predictions), rows[lo : lo + BATCH])
        for lo in range(0, len(monthly), BATCH):
            conn.execute(
                insert(risk_trajectories), trajectory_rows(run_id, monthly[lo : lo + BATCH])
            )
        ledger.record(conn, run_id, as_of, pred, config.forecast.horizons)
        churn = result.inputs.accounts.set_index("account_id")["churned_at"]
        judged = ledger.judge_open(conn, run_id, as_of, churn)
        history = ledger.summary(conn)
    return StoredFit(result, run_id, metrics, {"judged_now": judged, "runs": history})


def trajectory_rows(run_id: str, monthly: pd.DataFrame) -> list[dict[str, Any]]:
    """``risk_trajectories`` rows of account-months. The store builds them a batch at a
    time: all at once, 24 months of 100k accounts were 2.4M dicts beside the
    fit's frames."""
    return [
        {
            "run_id": run_id,
            "account_id": m.account_id,
            "month": m.month.date(),
            "sentiment": None if pd.isna(m.sentiment) else round(float(m.sentiment), 4),
            "n_texts": int(m.n_texts),
            "features": {
                "tickets": int(m.tickets),
                "sentiment_level": round(float(m.sentiment_level), 4),
                "nps_level": round(float(m.nps_level), 3),
            },
        }
        for m in monthly.itertuples(index=False)
    ]


def fit_and_store(
    engine: Engine,
    settings: Any,
    as_of: Any = None,
    on_progress: Callable[[int], None] | None = None,
    *,
    config: FitConfig | None = None,
    compute: ComputeEngine | None = None,
) -> StoredFit:
    """Fit and store a risk snapshot. ``compute`` runs the fit's parallel parts
    (``compute_fit``)."""
    cfg = config or FitConfig()
    inputs = load_inputs(
        engine, as_of, settings=settings, sentiment_model_version=cfg.sentiment_model_version
    )
    if inputs.accounts.empty:
        raise NotEnoughDataError(
            f"no accounts known at {inputs.as_of.date()}: ingest accounts first"
        )
    check_money(inputs)
    result = compute_fit(inputs, cfg, on_progress, compute)
    stored = store(engine, result, cfg)
    if on_progress:
        on_progress(1)
    return stored
