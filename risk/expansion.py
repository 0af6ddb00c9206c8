"""The expansion model: P(an active account opens an expansion opportunity within 180 days).

What counts (CONTRACT section 4, ``p_expand_180d``): an opportunity of an existing
account created after the day its contract started; the initial deal (created on or
before that day) does not count. ``openings`` applies the definition.

The model is a recurrent-event hazard over the churn panel's account-months
(``risk.trajectories.build_panel``, every feature of a period from data before it). A
period at risk holds the number of expansion opportunities the account opened in it,
and the piecewise-exponential (Poisson) model of ``risk.survival.pem`` fits the monthly
rate with the panel's exposure. Features: the panel's text, activity and CRM groups
(the sentiment trajectory, ticket volume, NPS, CSAT, ratings, tenure, segment); ARR at
the period's start (today's ARR less the won expansions that closed since, so a deal's
own amount never predicts it); the expansion history: ``expansions_before`` (log of
1 + the earlier expansions), ``expanded_recently`` and ``expanded_last_year`` (one
opened in the 3, the 12 months before: a deal in flight, a growing account); and
``renewal_near``, an anniversary of the contract start (an annual renewal,
when many expansions are negotiated) within the next 3 months.

Forecast: ``p_expand_180d = 1 - exp(-H(180 days))``, month by month: the features are
held at ``as_of``, but those that follow from the calendar (tenure, ``renewal_near``)
advance as the calendar will. Churn ends an account's expansions; that competing risk is not modelled, so
the baseline is calibrated in the large on the model's own back-test (observed vs
expected openings, ``risk.backtest.calibration_factor``), as the churn model's is.

Back-test (``backtest``): the churn back-test's rolling origins (``risk.backtest.origins``:
as_of - 180 days, then every 3 months earlier). At each origin T the panel is rebuilt
from what was known at T, the model fitted on it, and its p_expand for the accounts
active at T judged against the expansion opportunities they opened in (T, T + 180 d].
Pooled over origins: ``auc``, ``brier``, ``ici``, ``calibration`` by decile,
``expected``/``observed``; the same AUC for two baselines on the same accounts (the
shrunk sentiment trend, ``auc_trend``, and the model without text and activity
features, ``auc_crm_history``), and the expansion rate of the top 25/50/100 of each
origin's list (``lists``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from nlp.engines import LOCAL, ComputeEngine, release_memory
from risk.backtest import BacktestConfig, calibration_factor, origins, usable_features
from risk.drivers import explain
from risk.errors import NotEnoughDataError
from risk.inputs import RiskInputs, compact
from risk.metrics import auc
from risk.survival.pem import PiecewiseExponentialModel
from risk.trajectories import DAYS_PER_MONTH, Panel, TrajectoryConfig, build_panel

HISTORY_GROUP = "expansion_history"
HISTORY = ("expansions_before", "expanded_recently", "expanded_last_year", "renewal_near")
RECENT_MONTHS = 3
YEAR_MONTHS = 12
RENEWAL_MONTHS = 3  # an anniversary of the contract start within this many months ahead
FULL_GROUPS = ("text", "activity", "crm", HISTORY_GROUP)
BASELINE_GROUPS = ("crm", HISTORY_GROUP)
ARR_FLOOR_SHARE = 0.1  # ARR at a period start is never put below this share of today's


@dataclass(frozen=True)
class ExpansionConfig:
    """Settings of the expansion model and its back-test; the defaults are the product's."""

    horizon_days: int = 180
    n_origins: int = 3
    step_months: int = 3
    min_train_months: int = 6
    penalty: float = 2.0
    min_events: int = 5
    list_sizes: tuple[int, ...] = (25, 50, 100)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def origins_config(self) -> BacktestConfig:
        return BacktestConfig(
            horizon_days=self.horizon_days,
            n_origins=self.n_origins,
            step_months=self.step_months,
            min_train_months=self.min_train_months,
        )


class ExpansionHazardModel(PiecewiseExponentialModel):
    """The piecewise-exponential model, fitted on expansion openings instead of churn."""

    kind = "expansion_pem"
    version = "1"


def openings(accounts: pd.DataFrame, opportunities: pd.DataFrame) -> pd.DataFrame:
    """The expansion opportunities among ``opportunities`` (module docstring)."""
    start = accounts.drop_duplicates("account_id").set_index("account_id")["contract_start"]
    opp = opportunities[opportunities["account_id"].isin(start.index)]
    after = opp["created_at"].dt.normalize() > opp["account_id"].map(start)
    return opp[after.to_numpy()].reset_index(drop=True)


class OriginPanels:
    """The store as known at each origin and its panel, built once and shared. The texts,
    surveys and aspects known then are in the panel and are not kept beside it (an
    origin's texts are 100 MB at 100k accounts): the inputs given back hold the accounts
    and opportunities as known then, with empty text, survey and aspect frames."""

    def __init__(self, inputs: RiskInputs, trajectories: TrajectoryConfig) -> None:
        self.inputs = inputs
        self.trajectories = trajectories
        self._built: dict[pd.Timestamp, tuple[RiskInputs, Panel]] = {}

    def __call__(self, origin: pd.Timestamp) -> tuple[RiskInputs, Panel]:
        if origin not in self._built:
            known = self.inputs.restrict(origin)
            panel = build_panel(known, self.trajectories, monthly=False)
            release_memory()  # the build's temporaries, before a model is fitted on it
            crm = replace(known, texts=known.texts.iloc[:0], surveys=known.surveys.iloc[:0],
                          aspects=known.aspects.iloc[:0])  # fmt: skip
            self._built[origin] = (crm, panel)
        return self._built[origin]


def _before(
    ids: pd.Index,
    account_id: pd.Series,
    when: pd.Series,
    bounds: np.ndarray,
    weight: np.ndarray | None = None,
) -> np.ndarray:
    """Per account, the (weighted) count of events dated before each bound
    (A x len(bounds); ``bounds`` ascending)."""
    a = ids.get_indexer(account_id)
    ok = a >= 0
    idx = np.searchsorted(bounds, when.to_numpy(dtype="datetime64[ns]")[ok], side="right")
    counts = np.zeros((len(ids), len(bounds) + 1))
    w = np.ones(int(ok.sum())) if weight is None else np.asarray(weight, dtype=float)[ok]
    np.add.at(counts, (a[ok], idx), w)
    return np.cumsum(counts, axis=1)[:, :-1]


def expansion_frames(panel: Panel, inputs: RiskInputs) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(rows, current) of the panel with ``event`` = expansion openings in the period
    (rows), the expansion-history features and ARR at the period start (module docstring)."""
    if panel.boundaries is None:
        raise NotEnoughDataError("the panel has no periods")
    acc = inputs.accounts.reset_index(drop=True)
    ids = pd.Index(acc["account_id"])
    b = panel.boundaries
    b_ns = b.values.astype("datetime64[ns]")
    ops = openings(acc, inputs.opportunities)
    before = _before(ids, ops["account_id"], ops["created_at"], b_ns)  # A x (K+1)

    def within(months: int) -> np.ndarray:
        shifted = pd.DatetimeIndex([t - pd.DateOffset(months=months) for t in b])
        bounds = shifted.values.astype("datetime64[ns]")
        return before - _before(ids, ops["account_id"], ops["created_at"], bounds)

    recent, year = within(RECENT_MONTHS), within(YEAR_MONTHS)
    won = ops[ops["is_won"].astype(bool) & ops["closed_at"].notna()]
    amount = won["amount"].to_numpy(dtype=float)
    won_before = _before(ids, won["account_id"], won["closed_at"], b_ns, amount)
    later_won = won_before[:, -1:] - won_before  # won ARR closed at or after each boundary
    arr_now = acc["arr"].to_numpy(dtype=float)[:, None]
    arr_at = np.maximum(arr_now - later_won, ARR_FLOOR_SHARE * arr_now)

    # a shallow copy: the columns set below replace the panel's, never write into them
    rows = panel.rows.copy(deep=False)
    a = ids.get_indexer(rows["account_id"])
    j = rows["period"].to_numpy(dtype=int)
    rows["churn"] = rows["event"]
    rows["event"] = before[a, j + 1] - before[a, j]
    current = panel.current.copy()
    c = ids.get_indexer(current["account_id"])
    k = len(b_ns) - 1
    for frame, ai, ji in ((rows, a, j), (current, c, np.full(len(c), k))):
        frame["expansions_before"] = np.log1p(before[ai, ji])
        frame["expanded_recently"] = (recent[ai, ji] > 0).astype(float)
        frame["expanded_last_year"] = (year[ai, ji] > 0).astype(float)
        frame["log_arr"] = np.log1p(arr_at[ai, ji])
        frame["renewal_near"] = renewal_near(frame["tenure"].to_numpy(dtype=float))
    last = ops.groupby("account_id")["created_at"].max()
    since = (b[-1] - current["account_id"].map(last)).dt.days / DAYS_PER_MONTH
    current["months_since_expansion"] = since.fillna(np.inf).to_numpy(dtype=float)
    return rows, current


def renewal_near(tenure_months: np.ndarray) -> np.ndarray:
    """1.0 where a contract anniversary falls within ``RENEWAL_MONTHS`` after this tenure."""
    to_next = (12.0 - np.mod(tenure_months, 12.0)) % 12.0
    return ((to_next > 0) & (to_next <= RENEWAL_MONTHS)).astype(float)


def fit_model(
    rows: pd.DataFrame, panel: Panel, groups: tuple[str, ...], config: ExpansionConfig
) -> ExpansionHazardModel:
    """The expansion model on ``rows`` (from ``expansion_frames``) with these groups."""
    events = int(rows["event"].sum())
    if events < config.min_events:
        raise NotEnoughDataError(
            f"need at least {config.min_events} expansion opportunities (opportunities of "
            f"existing accounts created after their contract start) to fit, got {events}: "
            "ingest the CRM's opportunities"
        )
    names = [f for g in groups for f in (HISTORY if g == HISTORY_GROUP else panel.features(g))]
    model = ExpansionHazardModel(usable_features(rows, names), penalty=config.penalty)
    return model.fit(rows)  # type: ignore[return-value]


def p_expand(model: ExpansionHazardModel, current: pd.DataFrame, days: int) -> np.ndarray:
    """P(at least one expansion opportunity within ``days``): the monthly hazards summed
    with the calendar's features advanced each month (module docstring): tenure,
    ``renewal_near``, ``expanded_recently`` and ``expanded_last_year`` (without a new
    expansion, which is what is predicted, the last one only grows older)."""
    months = days / DAYS_PER_MONTH
    total = np.zeros(len(current))
    tenure = current["tenure"].to_numpy(dtype=float)
    since = current.get("months_since_expansion", pd.Series(np.inf, index=current.index))
    since = since.to_numpy(dtype=float)
    for k in range(int(np.ceil(months))):
        step = current.assign(
            tenure=tenure + k,
            renewal_near=renewal_near(tenure + k),
            expanded_recently=(since + k < RECENT_MONTHS).astype(float),
            expanded_last_year=(since + k < YEAR_MONTHS).astype(float),
        )
        span = DAYS_PER_MONTH * min(1.0, months - k)
        total += model.cumulative_hazard(step, [span])[:, 0]  # advances log_tenure itself
    return 1.0 - np.exp(-total)


def top_rates(score: np.ndarray, outcome: np.ndarray, sizes: tuple[int, ...]) -> dict[str, Any]:
    """Outcome rate among the ``n`` highest scores (ties: first come) for each size."""
    order = np.argsort(-np.asarray(score, dtype=float), kind="stable")
    y = np.asarray(outcome, dtype=float)[order]
    return {str(n): round(float(y[:n].mean()), 4) if len(y) >= n else None for n in sizes}


def _judge(frame: pd.DataFrame, sizes: tuple[int, ...]) -> dict[str, Any]:
    from risk.backtest import _ici  # the churn back-test's calibration index

    y = frame["y"].to_numpy(dtype=int)
    p = frame["p"].to_numpy(dtype=float)
    deciles = pd.qcut(pd.Series(p).rank(method="first"), min(10, len(p)), labels=False)
    cal = (
        pd.DataFrame({"d": deciles.to_numpy(), "p": p, "y": y})
        .groupby("d")
        .agg(predicted=("p", "mean"), observed=("y", "mean"), accounts=("y", "size"))
    )
    return {
        "n": len(frame),
        "events": int(y.sum()),
        "base_rate": round(float(y.mean()), 4),
        "auc": auc(y, p),
        "auc_trend": auc(y, frame["trend"].to_numpy(dtype=float)),
        "auc_crm_history": auc(y, frame["p_baseline"].to_numpy(dtype=float)),
        "brier": round(float(np.mean((y - p) ** 2)), 5),
        "ici": round(_ici(p, y.astype(float)), 5),
        "expected": round(float(p.sum()), 2),
        "observed": int(y.sum()),
        "calibration": [
            {
                "decile": int(d) + 1,
                "predicted": round(float(r.predicted), 4),
                "observed": round(float(r.observed), 4),
                "accounts": int(r.accounts),
            }
            for d, r in cal.iterrows()
        ],
    }


def outcome(
    ops: pd.DataFrame, account_ids: pd.Series, origin: pd.Timestamp, days: int
) -> np.ndarray:
    """1 where the account opened an expansion in (origin + 1 day start, origin + days]."""
    start = origin + pd.Timedelta(days=1)
    end = start + pd.Timedelta(days=days)
    hit = ops.loc[(ops["created_at"] >= start) & (ops["created_at"] < end), "account_id"]
    return account_ids.isin(set(hit)).to_numpy().astype(int)


def backtest_origin(
    shared: tuple[Any, ...], t: pd.Timestamp
) -> tuple[pd.DataFrame, dict[str, Any]] | None:
    """The back-test at origin ``t``: the origin's pooled rows (p, p_baseline, trend, y) and
    its list row, or None when no account is active then or too few expansions came
    before it. ``shared`` = (inputs, trajectory config, ExpansionConfig, OriginPanels or
    None: a task on a cluster builds the origin's panel itself). A task of the compute
    engine (``nlp.engines``)."""
    inputs, trajectories, config, panels = shared
    known, panel = (panels or OriginPanels(inputs, trajectories))(t)
    if panel.current.empty:
        return None
    rows, current = expansion_frames(panel, known)
    try:
        model = fit_model(rows, panel, FULL_GROUPS, config)
        baseline = fit_model(rows, panel, BASELINE_GROUPS, config)
    except NotEnoughDataError:
        return None
    ops = openings(inputs.accounts, inputs.opportunities)  # as known at as_of
    frame = pd.DataFrame(
        {
            "account_id": current["account_id"].to_numpy(),
            "p": p_expand(model, current, config.horizon_days),
            "p_baseline": p_expand(baseline, current, config.horizon_days),
            "trend": current["sentiment_trend"].to_numpy(dtype=float),
            "y": outcome(ops, current["account_id"], t, config.horizon_days),
        }
    )
    frame["origin"] = t
    listed = {
        "origin": t.date().isoformat(),
        "accounts": len(frame),
        "base_rate": round(float(frame["y"].mean()), 4),
        "top": top_rates(frame["p"].to_numpy(), frame["y"].to_numpy(), config.list_sizes),
        "top_trend": top_rates(frame["trend"].to_numpy(), frame["y"].to_numpy(), config.list_sizes),
    }
    return frame, listed


def expansion_origins(
    inputs: RiskInputs, trajectories: TrajectoryConfig, config: ExpansionConfig
) -> list[pd.Timestamp]:
    """The back-test's origins (oldest first)."""
    return origins(inputs, config.horizon_days, config.origins_config(), trajectories)


def pooled_backtest(
    config: ExpansionConfig, results: list[tuple[pd.DataFrame, dict[str, Any]] | None]
) -> dict[str, Any]:
    """The back-test's figures from its origins' results (``backtest_origin``, in origin
    order); NotEnoughDataError when no origin could be used."""
    done = [r for r in results if r is not None]
    if not done:
        raise NotEnoughDataError(
            "too little history for an out-of-time back-test of the expansion model"
        )
    return {
        "horizon_days": config.horizon_days,
        "origins": [listed["origin"] for _, listed in done],
        **_judge(pd.concat([f for f, _ in done], ignore_index=True), config.list_sizes),
        "lists": [listed for _, listed in done],
    }


def start_backtest(
    inputs: RiskInputs,
    trajectories: TrajectoryConfig,
    config: ExpansionConfig,
    panels: OriginPanels | None = None,
    compute: ComputeEngine | None = None,
) -> Callable[[], dict[str, Any]]:
    """``backtest`` in two halves: the origins start now as tasks of ``compute`` (on a
    cluster they run while the caller fits the churn model); the function returned
    waits and pools them. In this process the origins share ``panels``; on a cluster
    each task gets the inputs once, compact (``risk.inputs.compact``)."""
    compute = compute or LOCAL
    ts = expansion_origins(inputs, trajectories, config)
    shared = (
        (compact(inputs), trajectories, config, None)
        if compute.distributed
        else (inputs, trajectories, config, panels or OriginPanels(inputs, trajectories))
    )
    fits = compute.start_map(backtest_origin, ts, shared)
    return lambda: pooled_backtest(config, fits())


def backtest(
    inputs: RiskInputs,
    trajectories: TrajectoryConfig,
    config: ExpansionConfig,
    panels: OriginPanels | None = None,
    compute: ComputeEngine | None = None,
) -> dict[str, Any]:
    """The rolling-origin back-test of the module docstring (NotEnoughDataError without
    an origin that has enough expansions before it)."""
    return start_backtest(inputs, trajectories, config, panels, compute)()


def _version(model: ExpansionHazardModel, inputs: RiskInputs) -> str:
    """kind-vN-hash of the fitted parameters (8 significant digits: last-bit noise of
    another database's sums does not change it), the sentiment model and ``as_of``."""
    numbers = [model.intercept_, model.calibration_, *model.coef_, *model.mean_, *model.scale_]
    state = json.dumps(
        [model.features, [f"{float(v):.8g}" for v in numbers], inputs.sentiment_model_version,
         inputs.as_of.isoformat()]
    )  # fmt: skip
    return f"{model.kind}-v{model.version}-{hashlib.sha256(state.encode()).hexdigest()[:12]}"


@dataclass
class ExpansionFit:
    """The fitted expansion model, its back-test and its forecast for ``as_of``."""

    model: ExpansionHazardModel | None
    predictions: pd.DataFrame  # account_id, p_expand_180d, expansion_reason, expansion_drivers
    metrics: dict[str, Any]


@dataclass
class ExpansionToday:
    """Today's expansion model fitted on today's panel (``fit_today``), before its
    back-test calibrates it; ``model`` None: too few expansions, ``reason`` says why."""

    model: ExpansionHazardModel | None
    current: pd.DataFrame
    events: int
    reason: str | None = None


def fit_today(inputs: RiskInputs, panel: Panel, config: ExpansionConfig) -> ExpansionToday:
    """The expansion model fitted on all history (today's panel)."""
    rows, current = expansion_frames(panel, inputs)
    try:
        model = fit_model(rows, panel, FULL_GROUPS, config)
    except NotEnoughDataError as exc:
        return ExpansionToday(None, current, 0, str(exc))
    return ExpansionToday(model, current, int(rows["event"].sum()))


def finish_expansion(
    inputs: RiskInputs,
    today: ExpansionToday,
    config: ExpansionConfig,
    pending: Callable[[], dict[str, Any]],
) -> ExpansionFit:
    """Today's model calibrated in the large by its back-test (``pending``, started by
    ``start_backtest``), and its forecast."""
    cfg, model, current = config, today.model, today.current
    if model is None:
        empty = pd.DataFrame(
            columns=["account_id", "p_expand_180d", "expansion_reason", "expansion_drivers"]
        )
        return ExpansionFit(None, empty, {"status": "skipped", "reason": today.reason})
    try:
        bt: dict[str, Any] = pending()
    except NotEnoughDataError as exc:
        bt = {"status": "skipped", "reason": str(exc)}
    factor = calibration_factor(bt.get("expected"), bt.get("observed"))
    model.calibration_ = float(np.log(factor))
    p = p_expand(model, current, cfg.horizon_days)
    reasons, drivers = explain(
        model.features, model.contributions(current), current, model.mean_, "expansion"
    )
    predictions = pd.DataFrame(
        {
            "account_id": current["account_id"].to_numpy(),
            f"p_expand_{cfg.horizon_days}d": p,
            "expansion_reason": reasons,
            "expansion_drivers": drivers,
        }
    )
    metrics = {
        "status": "ok",
        "model_version": _version(model, inputs),
        "model": model.to_dict(),
        "events_in_history": today.events,
        "backtest": bt,
        "calibration_in_the_large": {
            "factor": round(factor, 4),
            "rule": "(observed + k) / (expected + k) of the pooled back-test, clipped to "
            "[0.5, 2]; scales the baseline rate (risk.backtest.calibration_factor)",
        },
        "expected_openings_180d": round(float(p.sum()), 2),
        "definition": "an opportunity of an existing account created after the day its "
        "contract started",
        "config": cfg.as_dict(),
    }
    return ExpansionFit(model, predictions, metrics)


def fit_expansion(
    inputs: RiskInputs,
    panel: Panel,
    trajectories: TrajectoryConfig,
    config: ExpansionConfig | None = None,
    panels: OriginPanels | None = None,
    pending: Callable[[], dict[str, Any]] | None = None,
) -> ExpansionFit:
    """Back-test, fit on all history, calibrate in the large, forecast. Without enough
    expansions in the store, the predictions are empty and ``metrics["status"]`` says why.
    ``pending``: the back-test already started (``start_backtest``), else run here."""
    cfg = config or ExpansionConfig()
    today = fit_today(inputs, panel, cfg)  # without a model the back-test is never waited for
    return finish_expansion(
        inputs, today, cfg, pending or start_backtest(inputs, trajectories, cfg, panels)
    )
