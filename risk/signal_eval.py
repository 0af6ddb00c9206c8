"""Judge a snapshot's sales lists against a world's truth (``undertow eval signals``).

The lists are read as the API serves them (``risk.feeds.signals_frame``: same sorts,
same rows). For the snapshot's accounts (active at its ``as_of``) the truth says whether
each churned (``churned_at_true``) and whether it opened an expansion opportunity
(``expanded_at_true``: the first one after the data's end) within ``h`` days after
``as_of``. Reported per list, for the top 25/50/100 of each ranking, the share of
accounts with the outcome, next to the base rate (all accounts) and the oracle (the best
any ranking could do), and each ranking's AUC over all accounts:

* risk: ``p_churn_90d`` (the default list), ``revenue_at_risk``, ``trend`` (the list of
  falling trends, ``sort=trend``);
* expansion: ``p_expand_180d`` (the default list), ``trend`` (rising trends), and
  ``low_p_churn`` (every account by ascending p_churn_90d: health alone).

A ranking shorter than a cut (``sort=trend`` keeps only falling or rising trends) is
judged on the rows it has; ``n`` says how many. Accounts the truth does not know, or says
churned on or before ``as_of``, are left out and counted. The truth's expansion dates
cover only the time after the data's end, so the snapshot judged should be fitted as of
that end (``undertow fit``'s default): an expansion between an earlier ``as_of`` and the
end is in the opportunities, not in the truth. A truth without ``expanded_at_true``
judges the risk list alone (``expansion.status`` says so).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine

from risk.errors import RiskInputError
from risk.feeds import get_run, signals_frame
from risk.metrics import auc

SIZES = (25, 50, 100)


def _cuts(ranked_ids: list[str], outcome: pd.Series, sizes: tuple[int, ...]) -> dict[str, Any]:
    y = outcome.reindex(ranked_ids).dropna().to_numpy(dtype=float)
    return {
        str(n): {
            "rate": round(float(y[:n].mean()), 4) if len(y) else None,
            "n": int(min(n, len(y))),
        }
        for n in sizes
    }


def _list(
    rankings: dict[str, tuple[list[str], np.ndarray | None]],
    outcome: pd.Series,
    sizes: tuple[int, ...],
) -> dict[str, Any]:
    y = outcome.to_numpy(dtype=float)
    best = sorted(outcome.index, key=lambda a: -outcome[a])
    out: dict[str, Any] = {
        "accounts": len(outcome),
        "events": int(y.sum()),
        "base_rate": round(float(y.mean()), 4) if len(y) else None,
        "rankings": {},
    }
    for name, (ids, score) in rankings.items():
        out["rankings"][name] = {
            "top": _cuts(ids, outcome, sizes),
            "auc": None if score is None else auc(y.astype(int), score),
        }
    out["rankings"]["oracle"] = {"top": _cuts(best, outcome, sizes), "auc": 1.0}
    return out


def judge_lists(
    engine: Engine,
    truth: pd.DataFrame,
    horizon_days: int = 180,
    run_id: str | None = None,
    sizes: tuple[int, ...] = SIZES,
) -> dict[str, Any]:
    """The figures of the module docstring for the latest (or the named) snapshot."""
    if horizon_days <= 0:
        raise RiskInputError(f"horizon_days must be positive, got {horizon_days}")
    run = get_run(engine, run_id)
    as_of = pd.Timestamp(run["as_of"])
    end = as_of + pd.Timedelta(days=horizon_days)
    risk = signals_frame(engine, "risk", run["run_id"])  # every active account
    if risk.empty:
        raise RiskInputError("the risk snapshot holds no accounts to judge")
    known = truth.drop_duplicates("account_id").set_index("account_id")
    ids = risk["account_id"].astype(str)
    in_truth = ids.isin(known.index).to_numpy()
    churn = ids.map(known["churned_at_true"])
    before = (churn <= as_of).to_numpy()
    keep = in_truth & ~before
    if not keep.any():
        raise RiskInputError("no account of the snapshot is in the truth file (wrong world?)")
    accounts = pd.Index(ids[keep])
    churned = pd.Series(((churn > as_of) & (churn <= end)).to_numpy()[keep], index=accounts)
    p = risk.set_index("account_id").loc[accounts]

    def served(list_kind: str, sort: str) -> list[str]:
        frame = signals_frame(engine, list_kind, run["run_id"], sort=sort)
        return [a for a in frame["account_id"].astype(str) if a in churned.index]

    out: dict[str, Any] = {
        "run_id": run["run_id"],
        "as_of": as_of.date().isoformat(),
        "model_version": run["model_version"],
        "horizon_days": horizon_days,
        "accounts": len(accounts),
        "not_in_truth": int((~in_truth).sum()),
        "churned_before_as_of_in_truth": int((in_truth & before).sum()),
        "risk": _list(
            {
                "p_churn_90d": (served("risk", "p_churn_90d"), p["p_churn_90d"].to_numpy()),
                "revenue_at_risk": (
                    served("risk", "revenue_at_risk"),
                    p["revenue_at_risk"].to_numpy(dtype=float),
                ),
                "trend": (served("risk", "trend"), -p["sentiment_trend"].to_numpy(dtype=float)),
            },
            churned.astype(int),
            sizes,
        ),
    }
    if "expanded_at_true" not in known.columns:
        out["expansion"] = {"status": "skipped", "reason": "the truth has no expanded_at_true"}
        return out
    first_after = known["expanded_at_true"]
    expanded = pd.Series(accounts.map(first_after), index=accounts)
    opened = pd.Series(((expanded > as_of) & (expanded <= end)).to_numpy(), index=accounts)
    p_expand = p["p_expand_180d"].to_numpy(dtype=float)
    lists = {
        "p_expand_180d": (served("expansion", "p_expand_180d"), p_expand),
        "trend": (served("expansion", "trend"), p["sentiment_trend"].to_numpy(dtype=float)),
        "low_p_churn": (
            list(p.sort_values(["p_churn_90d"], kind="stable").index),
            -p["p_churn_90d"].to_numpy(dtype=float),
        ),
    }
    out["expansion"] = {"status": "ok", **_list(lists, opened.astype(int), sizes)}
    return out
