"""Revenue risk under explicit, stored assumptions ("what if sentiment in SMB falls by 0.2?").

A scenario re-predicts the latest run's own model (``risk.replay``) on the run's current
account features shifted by its assumptions, and stores the result beside the base case
(the same model on the unshifted features, same parameter draws and churn simulation, so
the difference is the assumptions' effect and not simulation noise) in ``scenarios``.

Assumption syntax: ``[FILTER[,FILTER...]:]TARGET OP VALUE``

* FILTER: ``segment=smb``, ``account=ACC-1``, ``cohort=2024`` (contract start year) or
  ``cohort=2024-03`` (contract start month). Without a filter every active account.
* TARGET, OP and what moves in the model (everything else is held at its as-of value):

  ============== ============ =================================================================
  target         ops          effect
  ============== ============ =================================================================
  sentiment      ``+= -=``    sentiment level (scale -1..1) and its 90-day change by VALUE
  nps            ``+= -=``    NPS level (mean 0-10 score) and its 90-day trend by VALUE points
  csat           ``+= -=``    CSAT level (1-5) by VALUE
  review_rating  ``+= -=``    review rating (1-5) by VALUE
  tickets        ``*= += -=`` recent ticket count x VALUE (``*=1.3``) or by a percent
                              (``+=30%``); its 90-day trend moves with it
  arr            ``*= += -=`` ARR x VALUE or by a percent (revenue at risk scales with it)
  ============== ============ =================================================================

Values are bounded so every figure stays finite: an additive shift by at most its scale's
width (sentiment 2, NPS 10, CSAT and review rating 4), a factor of at most 100
(``*=100``, ``+=9900%``; a percent fall by at most 100%). Levels are clipped to their
scales. A scenario shifts only what it names: a fall in sentiment does not also raise the
share of negative texts, so it is a lower bound of the full effect of such a change. The
model's coefficients are associations conditional on every other feature, not causal
effects: on the demo world, more tickets *at the same sentiment* read as engagement and
lower the risk; a "support storm" is tickets up *and* sentiment down. ``by_assumption``
therefore shows each assumption's effect alone (point estimate of the expected churned
ARR, no interval) so finance sees which one moves what.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine, insert, select

from ingest.assumptions import Assumption, split_assumption
from ingest.db.schema import scenarios
from risk.errors import RiskInputError
from risk.forecast import forecast
from risk.replay import replay

ADDITIVE = {
    "sentiment": (-1.0, 1.0),
    "nps": (0.0, 10.0),
    "csat": (1.0, 5.0),
    "review_rating": (1.0, 5.0),
}
MULTIPLICATIVE = ("tickets", "arr")
FILTER_KEYS = ("segment", "account", "cohort")
MAX_FACTOR = 100.0  # tickets or ARR x100 at most; far larger factors overflow the hazard
MAX_ASSUMPTIONS = 50
MAX_NAME = 128


def parse_assumption(text: str) -> Assumption:
    """``segment=smb:sentiment-=0.2`` -> Assumption; RiskInputError naming what is wrong."""
    m, parts = split_assumption(text)
    if not m:
        raise RiskInputError(
            f"expected an assumption like 'segment=smb:sentiment-=0.2' or 'tickets*=1.3', "
            f"got {text!r}"
        )
    target, op, pct = m["target"], m["op"], bool(m["pct"])
    value = float(m["value"])  # a few hundred digits read as inf: refused below
    shown = (
        m["value"]
        if len(m["value"]) <= 24
        else f"{m['value'][:12]}... ({len(m['value'])} characters)"
    )
    if target in ADDITIVE:
        if op == "*=" or pct:
            raise RiskInputError(
                f"expected {target} to shift by points ('+=' or '-='), got {text!r}"
            )
        lo, hi = ADDITIVE[target]
        if not abs(value) <= hi - lo:
            raise RiskInputError(
                f"expected a {target} shift of at most {hi - lo:g} points (the scale's width), "
                f"got {shown}"
            )
    elif target in MULTIPLICATIVE:
        if op != "*=" and not pct:
            raise RiskInputError(
                f"expected {target} to change by a factor ('*=1.3') or a percent ('+=30%'), "
                f"got {text!r}"
            )
        if op == "*=" and (pct or value < 0):
            raise RiskInputError(f"expected a {target} factor >= 0 without '%', got {text!r}")
        change = value if op == "+=" else -value  # the percent change (unused for *=)
        if op != "*=" and change < -100:
            raise RiskInputError(f"expected {target} to fall by at most 100%, got {text!r}")
        if op == "*=" and not value <= MAX_FACTOR:
            raise RiskInputError(
                f"expected a {target} factor of at most {MAX_FACTOR:g}, got {shown}"
            )
        if op != "*=" and not change <= (MAX_FACTOR - 1) * 100:
            raise RiskInputError(
                f"expected {target} to rise by at most {(MAX_FACTOR - 1) * 100:g}%, got {shown}%"
            )
    else:
        known = sorted([*ADDITIVE, *MULTIPLICATIVE])
        raise RiskInputError(f"expected a target among {known}, got {target!r} in {text!r}")
    where: list[tuple[str, str]] = []
    for part, key, val in parts:
        if key not in FILTER_KEYS or not val:
            raise RiskInputError(
                f"expected filters like segment=smb, account=ID or cohort=2024, got {part!r}"
            )
        if key == "cohort" and not re.fullmatch(r"\d{4}(-\d{2})?", val):
            raise RiskInputError(f"expected a cohort year (2024) or month (2024-03), got {val!r}")
        where.append((key, val))
    return Assumption(target, op, value, tuple(where), text.strip(), pct)


def load_assumption_file(path: str | Path) -> list[str]:
    """Assumption strings from a YAML file: a list, or a mapping with an ``assumptions`` list.
    Each item is a string in the syntax above or a mapping ``{where: {...}, target, op, value}``."""
    import yaml

    p = Path(path)
    if not p.is_file():
        raise RiskInputError(f"assumption file {p} not found")
    if p.stat().st_size > 1_000_000:
        raise RiskInputError(f"assumption file {p} is larger than 1 MB")
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise RiskInputError(f"assumption file {p} is not valid YAML: {exc}") from exc
    items = data.get("assumptions") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise RiskInputError(f"{p}: expected a list of assumptions (or 'assumptions: [...]')")
    out: list[str] = []
    for item in items:
        if isinstance(item, str):
            out.append(item)
        elif isinstance(item, dict) and {"target", "op", "value"} <= set(item):
            where = ",".join(f"{k}={v}" for k, v in (item.get("where") or {}).items())
            out.append(f"{where + ':' if where else ''}{item['target']}{item['op']}{item['value']}")
        else:
            raise RiskInputError(f"{p}: expected a string or {{target, op, value}}, got {item!r}")
    return out


def _mask(current: pd.DataFrame, starts: pd.Series, a: Assumption) -> np.ndarray:
    mask = np.ones(len(current), dtype=bool)
    for key, val in a.where:
        if key == "segment":
            mask &= (current["segment"].astype(str) == val).to_numpy()
        elif key == "account":
            mask &= (current["account_id"].astype(str) == val).to_numpy()
        else:
            fmt = "%Y" if len(val) == 4 else "%Y-%m"
            start = current["account_id"].map(starts)
            mask &= (start.dt.strftime(fmt) == val).to_numpy()
    return mask


def _shift(
    frame: pd.DataFrame, col: str, m: np.ndarray, delta: float, lo: float, hi: float
) -> np.ndarray:
    """Add ``delta`` to ``col`` where ``m``, clipped to [lo, hi]; returns the actual moves."""
    old = frame.loc[m, col].astype(float).to_numpy()
    new = np.clip(old + delta, lo, hi)
    frame.loc[m, col] = new
    return new - old


def _move(frame: pd.DataFrame, col: str, m: np.ndarray, delta: np.ndarray | float) -> None:
    frame.loc[m, col] = frame.loc[m, col].astype(float).to_numpy() + delta


def apply_assumptions(
    current: pd.DataFrame, starts: pd.Series, assumptions: list[Assumption]
) -> tuple[pd.DataFrame, list[int], np.ndarray]:
    """The shifted copy of ``current`` (the panel's as-of features), the number of accounts
    each assumption matched, and which accounts any of them matched. Assumptions apply in
    order (a later one sees an earlier one's shift)."""
    out = current.copy()
    touched: list[int] = []
    hit = np.zeros(len(out), dtype=bool)
    for a in assumptions:
        m = _mask(out, starts, a)
        touched.append(int(m.sum()))
        hit |= m
        if not m.any():
            continue
        if a.target == "sentiment":
            moved = _shift(out, "sentiment_level", m, a.delta, -2.0, 2.0)
            _move(out, "sentiment_change", m, moved)
            if "sentiment" in out:  # the display value; NaN (no texts) stays NaN
                out.loc[m, "sentiment"] = np.clip(out.loc[m, "sentiment"] + a.delta, -1.0, 1.0)
        elif a.target == "nps":
            _move(out, "nps_trend", m, _shift(out, "nps_level", m, a.delta, *ADDITIVE["nps"]))
        elif a.target == "csat":
            _shift(out, "csat_level", m, a.delta, *ADDITIVE["csat"])
        elif a.target == "review_rating":
            _shift(out, "review_rating", m, a.delta, *ADDITIVE["review_rating"])
        elif a.target == "tickets":
            old = out.loc[m, "ticket_volume"].astype(float).to_numpy()
            new = np.log1p(np.expm1(old) * a.factor)
            out.loc[m, "ticket_volume"] = new
            _move(out, "ticket_trend", m, new - old)
        elif a.target == "arr":
            out.loc[m, "arr"] = out.loc[m, "arr"].astype(float).to_numpy() * a.factor
            out.loc[m, "log_arr"] = np.log1p(out.loc[m, "arr"].astype(float).to_numpy())
    return out, touched, hit


def _expected_churned_arr(model: Any, frame: pd.DataFrame, horizons: list[int]) -> np.ndarray:
    arr = frame["arr"].to_numpy(dtype=float)
    return arr @ model.p_churn(frame, horizons)


def _each_alone(
    model: Any,
    current: pd.DataFrame,
    starts: pd.Series,
    parsed: list[Assumption],
    horizons: tuple[int, ...],
) -> list[dict[str, Any]]:
    """Each assumption's change of the expected churned ARR when applied alone."""
    hz = list(horizons)
    base = _expected_churned_arr(model, current, hz)
    out = []
    for a in parsed:
        alone, _, _ = apply_assumptions(current, starts, [a])
        delta = _expected_churned_arr(model, alone, hz) - base
        out.append(
            {
                "text": a.text,
                "delta": {str(h): round(float(d), 2) for h, d in zip(hz, delta, strict=True)},
                "delta_pct": {
                    str(h): round(100.0 * float(d) / float(b), 2) if b else None
                    for h, d, b in zip(hz, delta, base, strict=True)
                },
            }
        )
    return out


def _compare(base: dict[str, Any], scen: dict[str, Any]) -> dict[str, Any]:
    b, s = base["expected_churned_arr"], scen["expected_churned_arr"]
    return {
        "base": base,
        "scenario": scen,
        "delta": round(s - b, 2),
        "delta_pct": round(100.0 * (s - b) / b, 2) if b else None,
    }


def run_scenario(
    engine: Engine,
    settings: Any,
    name: str,
    assumptions: list[str],
    run_id: str | None = None,
) -> dict[str, Any]:
    """Compute, store and return a scenario on the latest (or the named) risk run."""
    name = (name or "").strip()
    if not name or len(name) > MAX_NAME:
        raise RiskInputError(f"expected a scenario name of 1-{MAX_NAME} characters, got {name!r}")
    if not assumptions:
        raise RiskInputError("expected at least one assumption (--assumption or --file)")
    if len(assumptions) > MAX_ASSUMPTIONS:
        raise RiskInputError(
            f"expected at most {MAX_ASSUMPTIONS} assumptions, got {len(assumptions)}"
        )
    parsed = [parse_assumption(a) for a in assumptions]
    rp = replay(engine, settings, run_id)
    current = rp.panel.current
    starts = rp.inputs.accounts.set_index("account_id")["contract_start"]
    shifted, touched, hit = apply_assumptions(current, starts, parsed)
    base = forecast(rp.model, current, rp.forecast_config, rp.ltv_config)
    scen = forecast(rp.model, shifted, rp.forecast_config, rp.ltv_config)
    by_assumption = _each_alone(rp.model, current, starts, parsed, rp.forecast_config.horizons)
    horizons: dict[str, Any] = {}
    for h, block in base.revenue_risk.items():
        sblock = scen.revenue_risk[h]
        by_seg = {s["segment"]: s for s in sblock["segments"]}
        horizons[h] = {
            "total": _compare(block["total"], sblock["total"]),
            "segments": [
                {"segment": s["segment"], **_compare(s, by_seg[s["segment"]])}
                for s in block["segments"]
            ],
        }
    stored = (rp.run["metrics"].get("revenue_risk") or {}).get("180", {}).get("total", {})
    base180 = horizons.get("180", {}).get("total", {}).get("base", {})
    reproduces = bool(stored) and abs(
        stored.get("expected_churned_arr", 0) - base180.get("expected_churned_arr", 0)
    ) <= 0.005 * max(abs(stored.get("expected_churned_arr", 0)), 1.0)
    result = {
        "run_id": rp.run["run_id"],
        "as_of": str(pd.Timestamp(rp.run["as_of"]).date()),
        "model_version": rp.run["model_version"],
        "accounts": len(current),
        "affected_accounts": int(hit.sum()),
        "base_reproduces_snapshot": reproduces,
        "horizons": horizons,
        "by_assumption": by_assumption,
    }
    spec = [{**a.as_dict(), "accounts": n} for a, n in zip(parsed, touched, strict=True)]
    created = datetime.now(UTC).replace(tzinfo=None)
    with engine.begin() as conn:
        res = conn.execute(
            insert(scenarios).values(
                run_id=rp.run["run_id"],
                name=name,
                assumptions=spec,
                result=result,
                created_at=created,
            )
        )
        key = res.inserted_primary_key
    sid = int(key[0]) if key else 0
    return {
        "id": int(sid),
        "name": name,
        "created_at": created.isoformat(),
        "assumptions": spec,
        **result,
    }


def list_scenarios(engine: Engine, limit: int = 50) -> list[dict[str, Any]]:
    """Stored scenarios, newest first: name, run, assumptions and the headline figures."""
    if not 1 <= limit <= 1000:
        raise RiskInputError(f"expected a limit between 1 and 1000, got {limit}")
    with engine.connect() as conn:
        rows = conn.execute(
            select(scenarios)
            .order_by(scenarios.c.created_at.desc(), scenarios.c.id.desc())
            .limit(limit)
        ).all()
    out = []
    for r in rows:
        res = r.result or {}
        headline = {
            h: {k: v["total"][k] for k in ("delta", "delta_pct")}
            | {
                "base": v["total"]["base"]["expected_churned_arr"],
                "scenario": v["total"]["scenario"]["expected_churned_arr"],
            }
            for h, v in (res.get("horizons") or {}).items()
        }
        out.append(
            {
                "id": r.id,
                "name": r.name,
                "run_id": r.run_id,
                "created_at": r.created_at.isoformat(),
                "assumptions": [a.get("text") for a in r.assumptions or []],
                "expected_churned_arr": headline,
            }
        )
    return out
