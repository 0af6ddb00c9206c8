"""Judge a risk snapshot against a demo world's truth (``truth.csv`` of ``undertow demo``).

The demo world knows each account's true churn date, including churn after the data's
end (the future the snapshot forecasts). For the snapshot's accounts (active at its
``as_of``), the outcome at horizon h is ``churned_at_true`` in (as_of, as_of + h]. Reported:

* ``auc``: ROC AUC of the snapshot's stored ``p_churn`` at h against that outcome;
* ``expected`` (sum of p_churn) vs ``observed`` churns, and ``expected_error_pct``;
* the same for the ``no_text`` (no text features) and ``crm_only`` (tenure, ARR,
  segment) variants: the run's chosen model kind refitted on the run's own panel
  (``risk.replay``) with those feature groups and calibrated in the large from their own
  back-test figures, as the fit does; ``text_lift_auc`` = auc - no-text auc.

Accounts the truth does not know, or says churned on or before ``as_of`` (the store
missed a churn), are left out and counted. ``truth_covers_horizon`` is false when the
truth's latest churn date lies before as_of + h (the world may not run that long).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine

from risk.backtest import MODEL_GROUPS, calibration_factor, fit_group
from risk.errors import RiskInputError
from risk.feeds import check_horizon, churn_risk_frame, get_run
from risk.fit import FitConfig
from risk.metrics import auc
from risk.replay import replay

TRUTH_COLUMNS = ("account_id", "churned_at_true")
MAX_TRUTH_BYTES = 200_000_000


def read_truth(
    path: str | Path,
    dates: tuple[str, ...] = ("churned_at_true",),
    optional: tuple[str, ...] = (),
) -> pd.DataFrame:
    """account_id and the truth's date columns (NaT = never) from a truth CSV: every
    column of ``dates`` must be there, those of ``optional`` are read when present."""
    p = Path(path)
    if not p.is_file():
        raise RiskInputError(f"truth file {p} not found")
    if p.stat().st_size > MAX_TRUTH_BYTES:
        raise RiskInputError(f"truth file {p} is larger than {MAX_TRUTH_BYTES:,} bytes")
    try:
        frame = pd.read_csv(p, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise RiskInputError(f"truth file {p} is not a readable CSV: {exc}") from exc
    expected = ("account_id", *dates)
    missing = [c for c in expected if c not in frame.columns]
    if missing:
        raise RiskInputError(f"truth file {p} lacks column '{missing[0]}' (expected {expected})")
    out = pd.DataFrame({"account_id": frame["account_id"].astype(str)})
    for col in (*dates, *(c for c in optional if c in frame.columns)):
        out[col] = _dates(p, frame, col)
    return out


def _dates(p: Path, frame: pd.DataFrame, col: str) -> pd.Series:
    dates = pd.to_datetime(frame[col].replace("", None), errors="coerce")
    bad = frame[col].ne("") & dates.isna()
    if bad.any():
        raise RiskInputError(
            f"truth file {p}: {col} must be an ISO date or empty, got {frame.loc[bad, col].iloc[0]!r}"
        )
    if dates.dt.tz is not None:
        dates = dates.dt.tz_convert("UTC").dt.tz_localize(None)
    return dates


def _judge(y: np.ndarray, p: np.ndarray) -> dict[str, Any]:
    expected, observed = float(p.sum()), int(y.sum())
    return {
        "auc": auc(y, p),
        "expected": round(expected, 2),
        "observed": observed,
        "expected_error_pct": round(100.0 * (expected - observed) / observed, 2)
        if observed
        else None,
        "brier": round(float(np.mean((y - p) ** 2)), 5),
    }


def judge_against_truth(
    engine: Engine,
    settings: Any,
    truth: pd.DataFrame,
    horizon_days: int = 180,
    run_id: str | None = None,
    variants: bool = True,
) -> dict[str, Any]:
    """The figures of the module docstring for the latest (or the named) snapshot."""
    h = check_horizon(horizon_days)
    run_id = get_run(engine, run_id)["run_id"]
    snap = churn_risk_frame(engine, h, run_id)
    if snap.empty:
        raise RiskInputError("the risk snapshot holds no accounts to judge")
    as_of = pd.Timestamp(snap["as_of"].iloc[0])
    end = as_of + pd.Timedelta(days=h)
    known = truth.drop_duplicates("account_id").set_index("account_id")["churned_at_true"]
    when = snap["account_id"].astype(str).map(known)
    in_truth = snap["account_id"].astype(str).isin(known.index).to_numpy()
    before = (when <= as_of).to_numpy()
    keep = in_truth & ~before
    if not keep.any():
        raise RiskInputError("no account of the snapshot is in the truth file (wrong world?)")
    y = ((when > as_of) & (when <= end)).to_numpy()[keep].astype(int)
    out: dict[str, Any] = {
        "run_id": run_id,
        "as_of": as_of.date().isoformat(),
        "model_version": str(snap["model_version"].iloc[0]),
        "horizon_days": h,
        "accounts": int(keep.sum()),
        "not_in_truth": int((~in_truth).sum()),
        "churned_before_as_of_in_truth": int((in_truth & before).sum()),
        "truth_covers_horizon": bool(known.max() >= end) if known.notna().any() else False,
        **_judge(y, snap["p_churn"].to_numpy(dtype=float)[keep]),
    }
    if variants:
        rp = replay(engine, settings, run_id)
        kind = rp.model.kind
        factory = FitConfig().factory_for(kind)
        cur = rp.panel.current.set_index("account_id").reindex(snap["account_id"][keep])
        if cur.drop(columns=["name"], errors="ignore").isna().all(axis=1).any():
            raise RiskInputError(
                "the store changed before the snapshot's as-of date since the fit: refit first"
            )
        cur = cur.reset_index()
        out["variants"] = {}
        stored = (rp.run["metrics"].get("candidates") or {}).get(kind) or {}
        for name in ("no_text", "crm_only"):
            model = fit_group(factory, rp.panel, MODEL_GROUPS[name])
            bt = stored.get(name) or {}  # calibrated in the large like the snapshot's model
            model.calibration_ = math.log(
                calibration_factor(bt.get("expected"), bt.get("observed"))
            )
            p = model.p_churn(cur, [h])[:, 0]
            out["variants"][name] = {"model": kind, "refitted": True, **_judge(y, p)}
        no_text = out["variants"]["no_text"]["auc"]
        out["text_lift_auc"] = (
            round(out["auc"] - no_text, 4)
            if out["auc"] is not None and no_text is not None
            else None
        )
    return out
