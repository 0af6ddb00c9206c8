"""Per-account churn probabilities with intervals, LTV, drivers, and aggregate revenue risk.

Intervals: ``n_draws`` parameter vectors are drawn from the fitted model's normal
approximation (coefficients and baseline). An account's ``p_churn_low``/``_high`` are
the 5th/95th percentiles (``interval`` = 0.90) of its probability across draws. The
aggregate revenue risk's interval also includes which accounts actually churn: for each
parameter draw, churn of every account is simulated (Bernoulli with its drawn
probability) and the churned ARR summed; low/high are percentiles of that sum. The point
figure is the expected churned ARR, sum of ARR x p_churn. A fixed seed makes a fit
reproducible, on one process or on a cluster (chunks of accounts are tasks, each with its
own cut of one random stream).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from nlp.engines import LOCAL, ComputeEngine
from risk.drivers import explain
from risk.ltv import LtvConfig, expected_ltv, revenue_at_risk
from risk.survival.base import SurvivalModel

HORIZONS = (90, 180, 365)  # churn horizons in days: the one definition every layer reads


@dataclass(frozen=True)
class ForecastConfig:
    horizons: tuple[int, ...] = HORIZONS
    n_draws: int = 200
    interval: float = 0.90
    seed: int = 7
    # accounts per task: 5,000 keeps the draws (n_draws x chunk x horizons) in cache and
    # gives two workers 20 tasks at 100k accounts (20,000: 10.4 s local, 7.4 s on Ray x2;
    # 5,000: 8.7 and 5.2 s; benchmarks/RESULTS.md)
    chunk_size: int = 5_000

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Forecast:
    predictions: pd.DataFrame
    revenue_risk: dict[str, Any]


def segment_labels(segment: pd.Series) -> pd.Series:
    """Segment names for aggregation: accounts without one are grouped as 'unknown' (the
    label the feeds use too), never as the string 'None' or 'nan'."""
    return segment.fillna("unknown").astype(str)


def forecast(
    model: SurvivalModel,
    current: pd.DataFrame,
    config: ForecastConfig | None = None,
    ltv: LtvConfig | None = None,
    compute: ComputeEngine | None = None,
) -> Forecast:
    """Predictions, intervals, LTV and drivers of every account of ``current``, and the
    revenue risk. Chunks of ``chunk_size`` accounts are tasks of ``compute``; the
    simulation's random stream is cut at each chunk's start (``chunk_stream``), so the
    result is the same however the chunks are run."""
    return start_forecast(model, current, config, ltv, compute)()


def start_forecast(
    model: SurvivalModel,
    current: pd.DataFrame,
    config: ForecastConfig | None = None,
    ltv: LtvConfig | None = None,
    compute: ComputeEngine | None = None,
) -> Callable[[], Forecast]:
    """``forecast`` in two halves: the chunks start now as tasks of ``compute`` (on a
    cluster they run while the caller works), the function returned waits and sums them."""
    cfg, ltv_cfg = config or ForecastConfig(), ltv or LtvConfig()
    compute = compute or LOCAL
    rng = np.random.default_rng(cfg.seed)
    coef, shift = model.draw_parameters(cfg.n_draws, rng)
    segments = sorted(segment_labels(current["segment"]).unique())
    state = rng.bit_generator.state
    per_account = cfg.n_draws * len(cfg.horizons)  # Bernoulli draws per account
    starts = list(range(0, len(current), cfg.chunk_size))
    chunks = [(current.iloc[lo : lo + cfg.chunk_size], lo * per_account) for lo in starts]
    shared = (model, coef, shift, state, cfg, ltv_cfg, segments)
    pending = compute.start_map(forecast_chunk, chunks, shared)

    def result() -> Forecast:
        parts = pending()
        sims = {s: np.zeros((cfg.n_draws, len(cfg.horizons))) for s in segments}
        for _, chunk_sims in parts:  # summed in chunk order, as one pass would
            for s, sim in chunk_sims.items():
                sims[s] += sim
        pred = pd.concat([p for p, _ in parts], ignore_index=True) if parts else pd.DataFrame()
        keep = ["account_id", "name", "segment", "arr", "sentiment", "sentiment_trend"]
        keep += ["trend_weight", "texts_90d"]
        pred = (
            current[[c for c in keep if c in current]]
            .reset_index(drop=True)
            .merge(pred, on="account_id")
        )
        return Forecast(pred, _revenue_risk(pred, sims, list(cfg.horizons), _quantiles(cfg)))

    return result


def _quantiles(cfg: ForecastConfig) -> tuple[float, float]:
    return (1 - cfg.interval) / 2, 1 - (1 - cfg.interval) / 2


def chunk_stream(state: Any, offset: int) -> np.random.Generator:
    """The forecast's random stream (``state``: after the parameter draws) advanced by
    ``offset`` uniform doubles: each double takes one step of PCG64, so a chunk starting
    ``offset`` draws in sees what one pass over all chunks would have drawn there."""
    bits = np.random.PCG64()
    bits.state = state
    bits.advance(offset)
    return np.random.Generator(bits)


def forecast_chunk(
    shared: tuple[Any, ...], job: tuple[pd.DataFrame, int]
) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """One chunk of ``forecast``: its accounts' rows, and per segment the simulated churned
    ARR (draws x horizons). A task of the compute engine."""
    model, coef, shift, state, cfg, ltv_cfg, segments = shared
    chunk, offset = job
    hz = list(cfg.horizons)
    q = _quantiles(cfg)
    arr = chunk["arr"].to_numpy(dtype=float)
    ch = model.cumulative_hazard(chunk, hz + ltv_cfg.grid_days())
    p = 1 - np.exp(-ch[:, : len(hz)])
    surv = np.exp(-ch[:, len(hz) :])
    pd_draws = 1 - np.exp(-model.cumulative_hazard(chunk, hz, coef, shift))  # B x n x H
    lo_q, hi_q = np.quantile(pd_draws, q, axis=0)
    churned = chunk_stream(state, offset).random(pd_draws.shape) < pd_draws
    seg = segment_labels(chunk["segment"]).to_numpy()
    sims = {}
    for s in segments:
        m = seg == s
        if m.any():
            sims[s] = np.einsum("bnh,n->bh", churned[:, m, :], arr[m])
    out = pd.DataFrame({"account_id": chunk["account_id"].to_numpy()})
    for k, h in enumerate(hz):
        out[f"p_churn_{h}d"] = p[:, k]
        out[f"p_churn_{h}d_low"] = np.minimum(lo_q[:, k], p[:, k])
        out[f"p_churn_{h}d_high"] = np.maximum(hi_q[:, k], p[:, k])
    out["expected_ltv"] = expected_ltv(arr, surv, ltv_cfg)
    reasons, drivers = explain(model.features, model.contributions(chunk), chunk, model.mean_)
    out["reason"] = reasons
    out["drivers"] = drivers
    return out, sims


def _revenue_risk(
    pred: pd.DataFrame, sims: dict[str, np.ndarray], horizons: list[int], q: tuple[float, float]
) -> dict[str, Any]:
    """Expected churned ARR with a simulation interval, in total and by segment."""
    result: dict[str, Any] = {}
    for k, h in enumerate(horizons):
        rar = (
            revenue_at_risk(pred["arr"], pred[f"p_churn_{h}d"])
            if len(pred)
            else pd.Series(dtype=float)
        )
        segs = []
        total_sim = np.zeros(next(iter(sims.values())).shape[0]) if sims else np.zeros(1)
        for s, sim in sims.items():
            m = segment_labels(pred["segment"]) == s
            total_sim = total_sim + sim[:, k]
            segs.append(
                _block(
                    pred.loc[m, "arr"].sum(), rar[m].sum(), sim[:, k], q, int(m.sum()), segment=s
                )
            )
        result[str(h)] = {
            "total": _block(pred["arr"].sum(), float(rar.sum()), total_sim, q, len(pred)),
            "segments": segs,
        }
    return result


def _block(
    arr: float,
    expected: float,
    sim: np.ndarray,
    q: tuple[float, float],
    n: int,
    segment: str | None = None,
) -> dict[str, Any]:
    lo, hi = (float(v) for v in np.quantile(sim, q)) if len(sim) else (0.0, 0.0)
    out: dict[str, Any] = {} if segment is None else {"segment": segment}
    out.update(
        arr=round(float(arr), 2),
        expected_churned_arr=round(float(expected), 2),
        low=round(min(lo, expected), 2),
        high=round(max(hi, expected), 2),
        accounts=n,
    )
    return out
