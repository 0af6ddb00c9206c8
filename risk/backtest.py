"""Rolling-origin, out-of-time back-test of the churn model.

For each origin T (as_of - h, then every ``step_months`` earlier), the panel is rebuilt
from what was known at T, the model is fitted on it, and its forecast for the accounts
active at T is judged against churn in (T, T + h] as known at as_of. Every origin is
fully followed up, so no forecast is censored. Predictions of all origins are pooled.

Metrics, each for the full model, the no-text model (same model without text features)
and the CRM-only model (tenure, ARR, segment):

* ``c_index``: Harrell's concordance of -p_churn(h) with the time to churn in the window.
* ``auc_{90,180,365}d``: cumulative/dynamic time-dependent AUC at the horizon (cases:
  churned by t; controls: alive at t); a horizon appears when the history allows it.
* ``integrated_brier``: the Brier score of F(t) = P(churn by t), averaged over t every
  30 days up to h (no censoring within the window, so no weighting is needed).
* ``calibration``: by decile of p_churn(h): mean predicted, observed rate, accounts;
  ``ici``: integrated calibration index, the mean |smoothed observed - predicted| with a
  Gaussian-kernel smoother on logit(p) (bandwidth 0.5).
* ``expected``/``observed``: summed p_churn(h) and churn count (the fit rescales the
  chosen model's baseline by ``calibration_factor`` of these; the figures here are of the
  models before that rescaling).
* ``lead_time_days``: warning lead time. The model fitted at the earliest origin scores
  every account at every month start after it; an account is flagged high-risk when its
  p_churn(h) is in the top ``1 - high_risk_quantile`` of accounts at that origin. Median
  days from an account's first flag to its churn, over churned accounts flagged before
  churn; ``flagged_share`` is the share of those churners flagged at all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from nlp.engines import LOCAL, ComputeEngine, release_memory
from risk.errors import NotEnoughDataError, RiskError
from risk.inputs import RiskInputs, compact
from risk.metrics import auc
from risk.survival.base import SurvivalModel
from risk.trajectories import ASPECT_PREFIX, Panel, TrajectoryConfig, build_panel

MODEL_GROUPS: dict[str, tuple[str, ...]] = {
    "full": ("text", "activity", "crm"),
    "no_text": ("activity", "crm"),
    "crm_only": ("crm",),
}

ModelFactory = Callable[[list[str]], SurvivalModel]


@dataclass(frozen=True)
class BacktestConfig:
    horizon_days: int = 180
    n_origins: int = 3
    step_months: int = 3
    min_train_months: int = 6
    high_risk_quantile: float = 0.8

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


CALIBRATION_PRIOR_EVENTS = 10.0
CALIBRATION_BOUNDS = (0.5, 2.0)


def calibration_factor(
    expected: float | None, observed: float | None, prior_events: float = CALIBRATION_PRIOR_EVENTS
) -> float:
    """Out-of-time calibration in the large: the factor on the baseline hazard that makes the
    back-test's pooled expected churn count meet the observed one.

    Posterior mean of a rate multiplier with a Gamma(k, k) prior (mean 1, ``k`` =
    ``prior_events`` pseudo-events): (observed + k) / (expected + k), clipped to
    ``CALIBRATION_BOUNDS``. Few back-test events keep it near 1. Why it is needed: the
    forecast holds covariates at their as-of values, while the hazard is convex in them, so
    accounts that keep moving over the horizon churn more than the held values say."""
    if expected is None or observed is None:
        return 1.0
    c = (float(observed) + prior_events) / (float(expected) + prior_events)
    return float(np.clip(c, *CALIBRATION_BOUNDS))


def usable_features(rows: pd.DataFrame, names: list[str]) -> list[str]:
    """Features that vary in the training rows (a constant one carries no information)."""
    return [f for f in names if f in rows and float(rows[f].std()) > 1e-9]


def fit_group(factory: ModelFactory, panel: Panel, groups: tuple[str, ...]) -> SurvivalModel:
    return factory(usable_features(panel.rows, panel.features(*groups))).fit(panel.rows)


def origins(
    inputs: RiskInputs, horizon_days: int, cfg: BacktestConfig, traj: TrajectoryConfig
) -> list[pd.Timestamp]:
    """Origins T with a full horizon after them and enough history before them."""
    first = [inputs.texts["created_at"].min(), inputs.surveys["submitted_at"].min()]
    first = [f for f in first if pd.notna(f)]
    if not first:
        return []
    earliest = min(first) + pd.DateOffset(months=cfg.min_train_months + traj.warmup_months)
    last = inputs.as_of - pd.Timedelta(days=horizon_days)
    out = [last - pd.DateOffset(months=cfg.step_months * k) for k in range(cfg.n_origins)]
    return sorted(pd.Timestamp(t).normalize() for t in out if t >= earliest)


ICI_BLOCK = 16_384


def _ici(p: np.ndarray, y: np.ndarray, bandwidth: float = 0.5, n_grid: int = 200) -> float:
    """Integrated calibration index: mean |kernel-smoothed observed rate - predicted|.

    The smoother (Gaussian kernel on logit p) is evaluated on ``n_grid`` points and
    interpolated, so the cost stays linear in the number of predictions; the kernel's
    weights are summed over blocks of ``ICI_BLOCK`` predictions (all at once, 300k pooled
    predictions took 0.5 GB a copy)."""
    pc = np.clip(p, 1e-6, 1 - 1e-6)
    lp = np.log(pc / (1 - pc))
    grid = np.linspace(lp.min(), lp.max(), n_grid) if lp.max() > lp.min() else lp[:1]
    yf = np.asarray(y, dtype=float)
    num, den = np.zeros(len(grid)), np.zeros(len(grid))
    for lo in range(0, len(lp), ICI_BLOCK):
        d = (grid[:, None] - lp[None, lo : lo + ICI_BLOCK]) / bandwidth
        w = np.exp(-0.5 * d * d)
        num += w @ yf[lo : lo + ICI_BLOCK]
        den += w.sum(axis=1)
    smooth_grid = num / den
    smooth = np.interp(lp, grid, smooth_grid)
    return float(np.mean(np.abs(smooth - p)))


def judge(pred: pd.DataFrame, horizon_days: int) -> dict[str, Any]:
    """Every metric of the module docstring over pooled predictions.

    ``pred`` has ``duration`` (days to churn, capped at the horizon), ``event`` (churned
    in the window), and ``F_{t}`` columns: predicted P(churn by t days) for t on the grid.
    """
    from lifelines.utils import concordance_index

    h = horizon_days
    y = pred["event"].to_numpy(dtype=int)
    dur = pred["duration"].to_numpy(dtype=float)
    p = pred[f"F_{h}"].to_numpy(dtype=float)
    grid = [t for t in range(30, h + 1, 30)] + ([h] if h % 30 else [])
    briers = [
        float(np.mean((((dur <= t) & (y == 1)).astype(float) - pred[f"F_{t}"].to_numpy()) ** 2))
        for t in grid
    ]
    out: dict[str, Any] = {
        "n": len(pred),
        "events": int(y.sum()),
        "c_index": float(concordance_index(dur, -p, y)) if 0 < y.sum() < len(y) else None,
        "integrated_brier": float(np.mean(briers)),
        f"auc_{h}d": auc(y, p, digits=None),
        "expected": round(float(p.sum()), 2),
        "observed": int(y.sum()),
    }
    if h > 90 and "F_90" in pred:
        out["auc_90d"] = auc(
            ((dur <= 90) & (y == 1)).astype(int), pred["F_90"].to_numpy(), digits=None
        )
    deciles = (
        pd.qcut(pd.Series(p).rank(method="first"), 10, labels=False)
        if len(p) >= 10
        else pd.Series(np.zeros(len(p)))
    )
    cal = (
        pd.DataFrame({"d": deciles.to_numpy(), "p": p, "y": y})
        .groupby("d")
        .agg(predicted=("p", "mean"), observed=("y", "mean"), accounts=("y", "size"))
    )
    out["calibration"] = [
        {
            "decile": int(d) + 1,
            "predicted": round(float(r.predicted), 4),
            "observed": round(float(r.observed), 4),
            "accounts": int(r.accounts),
        }
        for d, r in cal.iterrows()
    ]
    out["ici"] = _ici(p, y.astype(float))
    return out


def _window_outcomes(
    current: pd.DataFrame, churn: pd.Series, origin: pd.Timestamp, h: int
) -> pd.DataFrame:
    c = current["account_id"].map(churn)
    days = (c - origin).dt.days.to_numpy(dtype=float)
    event = ~np.isnan(days) & (days > 0) & (days <= h)
    return pd.DataFrame(
        {
            "account_id": current["account_id"].to_numpy(),
            "event": event.astype(int),
            "duration": np.where(event, days, h),
        }
    )


def run_backtest(
    inputs: RiskInputs,
    factory: ModelFactory,
    traj: TrajectoryConfig | None = None,
    config: BacktestConfig | None = None,
    panel_now: Panel | None = None,
) -> dict[str, Any]:
    """Back-test every model of ``MODEL_GROUPS``; falls back to a 90-day horizon when the
    history is too short for the configured one. Raises NotEnoughDataError if neither fits."""
    result = run_candidates(inputs, {"model": factory}, traj, config, panel_now)["model"]
    if result.get("status") == "failed":
        raise RiskError(result["reason"])
    return result


def run_candidates(
    inputs: RiskInputs,
    factories: dict[str, ModelFactory],
    traj: TrajectoryConfig | None = None,
    config: BacktestConfig | None = None,
    panel_now: Panel | None = None,
    *,
    compute: ComputeEngine | None = None,
) -> dict[str, dict[str, Any]]:
    """Back-test several candidate models on the same rolling origins (each origin's panel
    is built once and shared). Returns candidate -> back-test (as ``run_backtest``), or
    ``{"status": "failed", "reason": ...}`` for a candidate whose fit failed."""
    return start_candidates(inputs, factories, traj, config, compute).result(panel_now)


def start_candidates(
    inputs: RiskInputs,
    factories: dict[str, ModelFactory],
    traj: TrajectoryConfig | None = None,
    config: BacktestConfig | None = None,
    compute: ComputeEngine | None = None,
) -> PendingBacktest:
    """``run_candidates`` in two halves: the origins start now as tasks of ``compute``
    (on Ray they run while the caller builds today's panel), ``result`` finishes."""
    return PendingBacktest(
        inputs, factories, traj or TrajectoryConfig(), config or BacktestConfig(), compute or LOCAL
    )


@dataclass
class OriginFit:
    """One origin's share of the back-test: each candidate's models fitted on the panel
    known at the origin, their predictions for the accounts active then, or why it failed."""

    origin: pd.Timestamp
    used: bool = False  # False: fewer than 5 churn events before it, or no active account
    predictions: dict[str, dict[str, pd.DataFrame]] = field(default_factory=dict)
    models: dict[str, dict[str, SurvivalModel]] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)


def fit_origin(shared: tuple[Any, ...], t: pd.Timestamp) -> OriginFit:
    """The back-test at origin ``t``: ``shared`` = (inputs, factories, trajectory config,
    horizon in days, grid of days). A task of the compute engine."""
    inputs, factories, traj, horizon, grid = shared
    out = OriginFit(t)
    panel = build_panel(inputs.restrict(t), traj, monthly=False)
    release_memory()  # the build's temporaries, before the models are fitted on it
    if int(panel.rows["event"].sum()) < 5 or panel.current.empty:
        return out
    out.used = True
    churn = inputs.accounts.set_index("account_id")["churned_at"]
    outcome = _window_outcomes(panel.current, churn, t, horizon)
    for cand, factory in factories.items():
        out.predictions[cand], out.models[cand] = {}, {}
        for name, groups in MODEL_GROUPS.items():
            try:
                model = fit_group(factory, panel, groups)
            except RiskError as exc:
                out.failed[cand] = f"{cand} failed at origin {t.date()} ({name}): {exc}"
                break
            out.models[cand][name] = model
            f = 1 - np.exp(-model.cumulative_hazard(panel.current, grid))
            frame = outcome.copy()
            for k, g in enumerate(grid):
                frame[f"F_{g}"] = f[:, k]
            frame["origin"] = t
            out.predictions[cand][name] = frame
    return out


def _judge(horizon: int, pooled: pd.DataFrame) -> dict[str, Any]:
    return judge(pooled, horizon)


class PendingBacktest:
    """A back-test whose origins were handed to a compute engine (``start_candidates``)."""

    def __init__(
        self,
        inputs: RiskInputs,
        factories: dict[str, ModelFactory],
        traj: TrajectoryConfig,
        cfg: BacktestConfig,
        compute: ComputeEngine,
    ) -> None:
        self.inputs, self.factories, self.traj, self.cfg = inputs, factories, traj, cfg
        self.compute = compute
        self.horizon = cfg.horizon_days
        ts = origins(inputs, self.horizon, cfg, traj)
        if not ts and self.horizon > 90:
            self.horizon = 90
            ts = origins(inputs, self.horizon, cfg, traj)
        self.origins = ts
        grid = sorted({*range(30, self.horizon + 1, 30), self.horizon, 90})
        shipped = compact(inputs) if compute.distributed else inputs
        shared = (shipped, factories, traj, self.horizon, grid)
        self._fits = compute.start_map(fit_origin, ts, shared)

    def result(self, panel_now: Panel | None = None) -> dict[str, dict[str, Any]]:
        """Candidate -> back-test, as ``run_candidates``; ``panel_now`` (built here if
        None) is today's panel, on which each first-origin model's lead time is judged."""
        inputs, traj, cfg, horizon = self.inputs, self.traj, self.cfg, self.horizon
        if not self.origins:
            months = cfg.min_train_months + traj.warmup_months
            raise NotEnoughDataError(
                f"too little history for an out-of-time back-test: it needs texts or surveys "
                f"from at least {months} months before an origin and {horizon} days after it, "
                f"by as_of {inputs.as_of.date()}"
            )
        fits = [f for f in self._fits() if f.used]
        if not fits:
            raise NotEnoughDataError("no back-test origin had at least 5 churn events before it")
        failed: dict[str, str] = {}
        for fit in fits:  # a candidate's first failure, in origin order
            for cand, why in fit.failed.items():
                failed.setdefault(cand, why)
        ok = [c for c in self.factories if c not in failed]
        jobs = [(c, m) for c in ok for m in MODEL_GROUPS]
        pooled = [
            pd.concat([f.predictions[c][m] for f in fits], ignore_index=True) for c, m in jobs
        ]
        judging = self.compute.start_map(_judge, pooled, horizon)  # meanwhile, lead times
        churn = inputs.accounts.set_index("account_id")["churned_at"]
        panel_now = panel_now or build_panel(inputs, traj)
        extra_panels: dict[tuple[str, ...], Panel] = {}
        first_t = fits[0].origin
        leads = {
            (cand, name): lead_time(
                model,
                _panel_for(model, panel_now, inputs, traj, extra_panels),
                first_t,
                horizon,
                cfg.high_risk_quantile,
                churn,
            )
            for cand in ok
            for name, model in fits[0].models[cand].items()
        }
        judged = dict(zip(jobs, judging(), strict=True))
        out: dict[str, dict[str, Any]] = {}
        for cand in self.factories:
            if cand in failed:
                out[cand] = {"status": "failed", "reason": failed[cand]}
                continue
            models = {
                name: {**judged[(cand, name)], **leads[(cand, name)]} for name in MODEL_GROUPS
            }
            out[cand] = {
                "horizon_days": horizon,
                "origins": [f.origin.date().isoformat() for f in fits],
                "models": models,
                "config": cfg.as_dict(),
            }
        return out


def _panel_for(
    model: SurvivalModel,
    panel_now: Panel,
    inputs: RiskInputs,
    traj: TrajectoryConfig,
    built: dict[tuple[str, ...], Panel],
) -> Panel:
    """``panel_now``, or (when the model, fitted at the first origin, was given aspects
    that are no longer among the most complained about) today's panel with the model's
    own aspect columns."""
    if all(f in panel_now.rows for f in model.features):
        return panel_now
    aspects = tuple(
        sorted(f.removeprefix(ASPECT_PREFIX) for f in model.features if f.startswith(ASPECT_PREFIX))
    )
    if aspects not in built:
        built[aspects] = build_panel(inputs, replace(traj, aspects=aspects))
    return built[aspects]


def lead_time(
    model: SurvivalModel,
    panel: Panel,
    origin: pd.Timestamp,
    h: int,
    quantile: float,
    churn: pd.Series,
) -> dict[str, Any]:
    """Median days from the first high-risk flag to churn (see the module docstring)."""
    rows = panel.rows[panel.rows["period_start"] >= origin]
    if rows.empty:
        return {"lead_time_days": None, "flagged_share": None}
    p = 1 - np.exp(-model.cumulative_hazard(rows, [h])[:, 0])
    first_period = rows["period_start"] == rows["period_start"].min()
    threshold = float(np.quantile(p[first_period.to_numpy()], quantile))
    flagged = rows.loc[p >= threshold, ["account_id", "period_start"]]
    first_flag = flagged.groupby("account_id")["period_start"].min()
    churned = churn[(churn > origin)].dropna()
    churned = churned[churned.index.isin(rows["account_id"])]
    if churned.empty:
        return {"lead_time_days": None, "flagged_share": None}
    lead = (churned - first_flag.reindex(churned.index)).dt.days.dropna()
    lead = lead[lead > 0]
    return {
        "lead_time_days": float(lead.median()) if len(lead) else None,
        "flagged_share": round(len(lead) / len(churned), 4),
        "high_risk_threshold": round(threshold, 4),
    }
