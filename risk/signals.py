"""The sales lists' models, and how the top of each list fared out of time.

``start_signals`` runs inside every ``undertow fit`` (``risk.fit.compute_fit``):

* the expansion model (``risk.expansion``): back-test, fit on all history, forecast of
  ``p_expand_180d`` with its reason and drivers;
* the list check behind the sales view's calibration line ("of accounts ranked like
  these last quarter, X% churned"). At each of the last ``quarters`` quarter origins
  (as_of - 90 days and - 180, each with a fully observed 90-day window after it),
  the churn model of the snapshot's kind, with all its features, is fitted on what was
  known at the origin and ranks the accounts active then by ``p_churn_90d``; recorded
  are the churn rate within 90 days of its top 25/50/100, of the same accounts ranked
  by the shrunk sentiment trend, and of all of them (the base rate). The expansion
  list's figures come from the expansion back-test (180-day windows).

Nothing here sees a date after ``as_of``; in one process the origins share their panels
(``risk.expansion.OriginPanels``). ``start_signals`` starts the expansion back-test's
origins as tasks of the fit's compute engine (``nlp.engines``), and
``PendingSignals.start_lists`` the list check's once the churn model's kind is known (on
a cluster each task builds its own origin panel while the driver fits today's models;
when the kind is known at the start, the origin both checks have is one task,
``both_checks_origin``); ``PendingSignals.result`` finishes. The result is the same on
every engine.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import numpy as np
import pandas as pd

from nlp.engines import LOCAL, ComputeEngine
from risk.backtest import MODEL_GROUPS, ModelFactory, fit_group
from risk.errors import RiskError
from risk.expansion import (
    ExpansionConfig,
    ExpansionFit,
    ExpansionToday,
    OriginPanels,
    backtest_origin,
    expansion_origins,
    finish_expansion,
    fit_today,
    pooled_backtest,
    start_backtest,
    top_rates,
)
from risk.inputs import RiskInputs, compact
from risk.trajectories import Panel, TrajectoryConfig

LIST_DAYS = 90


@dataclass(frozen=True)
class SignalsConfig:
    """The expansion model's settings (its ``list_sizes`` and ``min_train_months`` serve
    the risk list's check too) and how many quarters the risk list's check looks back."""

    expansion: ExpansionConfig = field(default_factory=ExpansionConfig)
    quarters: int = 2  # each costs a fit of the churn model (cox_tv: ~6 s at 150k rows)


@dataclass
class SignalsFit:
    expansion: ExpansionFit
    risk_lists: dict[str, Any]

    def metrics(self) -> dict[str, Any]:
        exp = self.expansion.metrics
        lists: dict[str, Any] = {"risk": self.risk_lists}
        bt = exp.get("backtest") or {}
        if bt.get("lists"):
            lists["expansion"] = {
                "horizon_days": bt.get("horizon_days"),
                "origins": bt["lists"],
                "rule": "expansion back-test: top of each origin's list by p_expand, "
                "expansion opportunities opened within 180 days",
            }
        return {"expansion": exp, "lists": lists}

    def summary(self) -> dict[str, Any]:
        """The expansion figures ``undertow fit --json`` prints."""
        exp = self.expansion.metrics
        bt = exp.get("backtest") or {}
        keys = ("auc", "auc_trend", "auc_crm_history", "brier", "ici", "expected", "observed")
        return {
            "status": exp.get("status"),
            **({"reason": exp["reason"]} if exp.get("reason") else {}),
            "model_version": exp.get("model_version"),
            "backtest_origins": bt.get("origins"),
            "backtest_base_rate": bt.get("base_rate"),
            **{f"backtest_{k}": bt.get(k) for k in keys},
            "calibration_factor": (exp.get("calibration_in_the_large") or {}).get("factor"),
            "expected_openings_180d": exp.get("expected_openings_180d"),
        }


def prediction_fields(pred: pd.DataFrame, signals: SignalsFit | None) -> dict[str, dict[str, Any]]:
    """Per account, the stored columns of the sales lists beyond the churn forecast:
    ``revenue_at_risk_90d``, ``texts_90d``, ``trend_weight`` and (when the expansion model
    could be fitted) ``p_expand_180d``, ``expansion_reason``, ``expansion_drivers``."""
    out: dict[str, dict[str, Any]] = {}
    for r in pred.itertuples(index=False):
        out[r.account_id] = {
            "revenue_at_risk_90d": float(r.arr) * float(r.p_churn_90d),
            "texts_90d": None if pd.isna(getattr(r, "texts_90d", None)) else int(r.texts_90d),
            "trend_weight": None
            if pd.isna(getattr(r, "trend_weight", None))
            else float(r.trend_weight),
        }
    if signals is not None:
        for e in signals.expansion.predictions.itertuples(index=False):
            if e.account_id in out:
                out[e.account_id].update(
                    p_expand_180d=float(e.p_expand_180d),
                    expansion_reason=e.expansion_reason,
                    expansion_drivers=e.expansion_drivers,
                )
    return out


def list_origins(
    inputs: RiskInputs, trajectories: TrajectoryConfig, config: SignalsConfig
) -> list[pd.Timestamp]:
    """The risk list check's quarter origins (oldest first, as the back-tests), each with
    enough history before it."""
    first = inputs.texts["created_at"].min()
    if pd.isna(first):
        return []
    months = config.expansion.min_train_months + trajectories.warmup_months
    earliest = first + pd.DateOffset(months=months)
    ts = [
        (inputs.as_of - pd.Timedelta(days=LIST_DAYS * q)).normalize()
        for q in range(config.quarters, 0, -1)
    ]
    return [t for t in ts if t >= earliest]


def list_check_origin(shared: tuple[Any, ...], t: pd.Timestamp) -> dict[str, Any] | None:
    """The risk list's row at origin ``t`` (module docstring), or None when too few churns
    came before it or the model cannot be fitted. ``shared`` = (inputs, trajectory config,
    churn model factory, list sizes, OriginPanels or None: a task on a cluster builds the
    origin's panel itself). A task of the compute engine (``nlp.engines``)."""
    inputs, trajectories, factory, sizes, panels = shared
    _, panel = (panels or OriginPanels(inputs, trajectories))(t)
    if panel.current.empty or int(panel.rows["event"].sum()) < 5:
        return None
    try:
        model = fit_group(factory, panel, MODEL_GROUPS["full"])
    except RiskError:
        return None
    p = model.p_churn(panel.current, [LIST_DAYS])[:, 0]
    churn = inputs.accounts.set_index("account_id")["churned_at"]
    when = panel.current["account_id"].map(churn)
    y = ((when > t) & (when <= t + pd.Timedelta(days=LIST_DAYS))).to_numpy().astype(int)
    trend = panel.current["sentiment_trend"].to_numpy(dtype=float)
    row = _origin(t, p, y, -trend, sizes)
    rar = panel.current["arr"].to_numpy(dtype=float) * p
    row["top_revenue_at_risk"] = top_rates(rar, y, sizes)
    return row


def start_list_check(
    inputs: RiskInputs,
    panels: OriginPanels,
    factory: ModelFactory,
    config: SignalsConfig,
    compute: ComputeEngine | None = None,
) -> Callable[[], dict[str, Any]]:
    """The risk list's out-of-time figures of the module docstring, in two halves: the
    origins start now as tasks of ``compute`` (on a cluster they run while the driver fits
    today's models), the function returned waits for them. In this process the origins
    share ``panels`` with the expansion back-test; on a cluster each task gets the inputs
    once, compact, and builds its own panel."""
    compute = compute or LOCAL
    ts = list_origins(inputs, panels.trajectories, config)
    sizes = config.expansion.list_sizes
    shared = (
        (compact(inputs), panels.trajectories, factory, sizes, None)
        if compute.distributed
        else (inputs, panels.trajectories, factory, sizes, panels)
    )
    rows = compute.start_map(list_check_origin, ts, shared)
    return lambda: list_check_result(rows())


def list_check_result(rows: list[dict[str, Any] | None]) -> dict[str, Any]:
    """The risk list check's figures from its origins' rows (``list_check_origin``)."""
    return {
        "horizon_days": LIST_DAYS,
        "origins": [r for r in rows if r is not None],
        "rule": "at each origin, the churn model of the snapshot's kind fitted on what was "
        "known then ranks the active accounts by p_churn_90d; churn within 90 days",
    }


def both_checks_origin(
    shared: tuple[Any, ...], t: pd.Timestamp
) -> tuple[tuple[pd.DataFrame, dict[str, Any]] | None, dict[str, Any] | None]:
    """The expansion back-test's and the risk list check's results at an origin both
    have, from one panel of the origin. ``shared`` = (inputs, trajectory config,
    ExpansionConfig, churn model factory, list sizes). A task of a cluster, which
    would otherwise build the panel twice (in one process ``OriginPanels`` shares it)."""
    inputs, trajectories, expansion, factory, sizes = shared
    panels = OriginPanels(inputs, trajectories)
    return (
        backtest_origin((inputs, trajectories, expansion, panels), t),
        list_check_origin((inputs, trajectories, factory, sizes, panels), t),
    )


def start_both_checks(
    inputs: RiskInputs,
    trajectories: TrajectoryConfig,
    config: SignalsConfig,
    factory: ModelFactory,
    compute: ComputeEngine,
) -> tuple[Callable[[], dict[str, Any]], Callable[[], dict[str, Any]]]:
    """``start_backtest`` and ``start_list_check`` at once on a cluster, an origin both
    have (as_of - 180 days) in one task (``both_checks_origin``); the two functions
    returned wait for the expansion back-test and the list check."""
    exp = config.expansion
    ts_exp = expansion_origins(inputs, trajectories, exp)
    ts_list = list_origins(inputs, trajectories, config)
    both = [t for t in ts_exp if t in ts_list]
    small, sizes = compact(inputs), exp.list_sizes
    # the paired task is the longest: first in the queue, not last
    paired = compute.start_map(both_checks_origin, both, (small, trajectories, exp, factory, sizes))
    only_exp = [t for t in ts_exp if t not in both]
    only_list = [t for t in ts_list if t not in both]
    exp_rows = compute.start_map(backtest_origin, only_exp, (small, trajectories, exp, None))
    list_rows = compute.start_map(
        list_check_origin, only_list, (small, trajectories, factory, sizes, None)
    )
    @cache  # both halves wait for the paired tasks; they are collected once
    def pairs() -> dict[pd.Timestamp, Any]:
        return dict(zip(both, paired(), strict=True))

    def expansion() -> dict[str, Any]:
        by_t = {**dict(zip(only_exp, exp_rows(), strict=True)),
                **{t: r[0] for t, r in pairs().items()}}  # fmt: skip
        return pooled_backtest(exp, [by_t[t] for t in ts_exp])

    def lists() -> dict[str, Any]:
        by_t = {**dict(zip(only_list, list_rows(), strict=True)),
                **{t: r[1] for t, r in pairs().items()}}  # fmt: skip
        return list_check_result([by_t[t] for t in ts_list])

    return expansion, lists


def churn_list_check(
    inputs: RiskInputs,
    panels: OriginPanels,
    factory: ModelFactory,
    config: SignalsConfig,
) -> dict[str, Any]:
    """The risk list's out-of-time figures of the module docstring, in this process."""
    return start_list_check(inputs, panels, factory, config)()


def _origin(
    t: pd.Timestamp, p: np.ndarray, y: np.ndarray, trend_score: np.ndarray, sizes: tuple[int, ...]
) -> dict[str, Any]:
    return {
        "origin": t.date().isoformat(),
        "accounts": len(y),
        "base_rate": round(float(y.mean()), 4) if len(y) else None,
        "top": top_rates(p, y, sizes),
        "top_trend": top_rates(trend_score, y, sizes),
    }


class PendingSignals:
    """The sales lists' models with their expansion back-test already started
    (``start_signals``). ``start_lists`` starts the risk list check once the churn model's
    kind is known, ``prefit`` fits today's expansion model once today's panel is (each
    as early as the caller can, so a cluster's workers and the driver work at once), and
    ``result`` finishes (doing what was not done yet). With the churn model's factory
    known at the start (``churn_factory``) a cluster starts both checks at once
    (``start_both_checks``)."""

    def __init__(
        self,
        inputs: RiskInputs,
        trajectories: TrajectoryConfig,
        config: SignalsConfig,
        compute: ComputeEngine | None,
        churn_factory: ModelFactory | None = None,
    ) -> None:
        self.inputs, self.trajectories, self.config = inputs, trajectories, config
        self.compute = compute
        self.panels = OriginPanels(inputs, trajectories)
        self._lists: Callable[[], dict[str, Any]] | None = None
        self._today: ExpansionToday | None = None
        if compute is not None and compute.distributed and churn_factory is not None:
            self._backtest, self._lists = start_both_checks(
                inputs, trajectories, config, churn_factory, compute
            )
        else:
            self._backtest = start_backtest(
                inputs, trajectories, config.expansion, self.panels, compute
            )

    def start_lists(self, churn_factory: ModelFactory) -> None:
        """Start the risk list check with the churn model of this factory."""
        if self._lists is None:
            self._lists = start_list_check(
                self.inputs, self.panels, churn_factory, self.config, self.compute
            )

    def prefit(self, panel: Panel) -> None:
        """Fit today's expansion model on today's panel (the back-test is not needed yet)."""
        if self._today is None:
            self._today = fit_today(self.inputs, panel, self.config.expansion)

    def result(self, panel: Panel, churn_factory: ModelFactory) -> SignalsFit:
        self.prefit(panel)
        self.start_lists(churn_factory)
        assert self._today is not None and self._lists is not None
        expansion = finish_expansion(
            self.inputs, self._today, self.config.expansion, self._backtest
        )
        return SignalsFit(expansion, self._lists())


def start_signals(
    inputs: RiskInputs,
    trajectories: TrajectoryConfig,
    config: SignalsConfig | None = None,
    compute: ComputeEngine | None = None,
    churn_factory: ModelFactory | None = None,
) -> PendingSignals:
    """The sales lists' models of the module docstring, started (``PendingSignals``)."""
    return PendingSignals(inputs, trajectories, config or SignalsConfig(), compute, churn_factory)
