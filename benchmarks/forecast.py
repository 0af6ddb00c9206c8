"""The pipeline forecast judged against demo worlds: the next quarter against the truth,
and the rolling-origin back-test beside the naive forecasts.

For each world (``--seeds``, marketing side of ``build_world``; ``--style alt|long|lean``
for worlds built unlike the demo's) on a fresh SQLite store: ingest, classify answers, ``undertow
measure`` with its defaults as of the data's end, ``undertow forecast`` of the next 13
weeks judged against ``pipeline_truth.csv`` (the realized pipeline of the weeks after
the data, which the store never saw), once with the default plan (trailing spend goes
on) and once under the spend the world then executed (its future spend, as per-channel
factors), beside the world's own expected pipeline (what a perfect model would say: its
error is the deals' noise alone) under the spend executed and under the run-rate plan
(``expected_at_run_rate``: what a perfect model forecasts without knowing the spend to
come, the floor of the default plan's error), then ``marketing.forecast_backtest.backtest``
(4 origins, 13 weeks apart) with the naive and seasonal naive forecasts in the same run.
The churn side is kept to a handful of accounts (``--accounts``): the truth's future
weeks hold the prospects' pipeline only.

    .venv/bin/python benchmarks/forecast.py [--seeds 7 11 23] [--style demo|alt|long|lean] [--origins 4 (0: the next quarter only)]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

# benchmarks/ingest.py would shadow the ``ingest`` package: drop this folder from the path
if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

END = "2026-11-29"  # a Sunday: the data end with a complete week


def build_store(
    seed: int, accounts: int, months: int, style: str, folder: Path
) -> tuple[Any, Path]:
    from marketing.demo_store import demo_store

    store = demo_store(folder, seed=seed, accounts=accounts, months=months, end=END, style=style)
    return store.engine, store.world_dir


def executed_plan(truth: pd.DataFrame, fc: dict[str, Any]) -> list[str]:
    """Per modelled channel ``channel=C:spend*=F``: F = the mean weekly spend the world
    executed in the forecast's weeks / its mean in the 13 weeks before them."""
    before = truth[truth["week"] < fc["first_week"]].tail(13)
    after = truth[truth["week"] >= fc["first_week"]].head(13)
    out = []
    for c in fc["spend_plan"]:
        trailing = float(before[f"spend_{c}"].mean())
        if trailing > 0:
            factor = min(float(after[f"spend_{c}"].mean()) / trailing, 10.0)
            out.append(f"channel={c}:spend*={factor:.4f}")
    return out


def one_world(seed: int, args: argparse.Namespace) -> dict[str, Any]:
    from marketing.forecast_backtest import backtest
    from marketing.forecast_ledger import run_forecast
    from marketing.measure import measure_and_store

    with tempfile.TemporaryDirectory() as tmp:
        engine, folder = build_store(seed, args.accounts, args.months, args.style, Path(tmp))
        truth = pd.read_csv(folder / "pipeline_truth.csv")
        t0 = time.perf_counter()
        measure_and_store(engine)
        fc = run_forecast(engine, weeks=13)
        future = truth[truth["week"] >= fc["first_week"]].head(13)
        actual = float(future["realized"].sum())
        t = fc["total"]
        out: dict[str, Any] = {
            "seed": seed, "style": args.style,
            "next_quarter": {"actual": actual, **t, "inside": t["p10"] <= actual <= t["p90"],
                             "p50_error": (t["p50"] - actual) / actual,
                             "expected": float(future["expected"].sum()),
                             "expected_at_run_rate": float(future["expected_at_run_rate"].sum())},
            "measure_and_forecast_seconds": time.perf_counter() - t0,
        }  # fmt: skip
        # the same forecast under the spend that was then executed (the world's own
        # future spend, as each channel's factor on its trailing 13-week mean): what is
        # left is the model's error, not the plan's
        executed = run_forecast(engine, weeks=13, assumptions=executed_plan(truth, fc))
        te = executed["total"]
        out["executed_plan"] = {**te, "inside": te["p10"] <= actual <= te["p90"],
                                "p50_error": (te["p50"] - actual) / actual,
                                "assumptions": [a["text"] for a in executed["assumptions"]]}  # fmt: skip
        t0 = time.perf_counter()
        if args.origins:  # 0: the next quarter only
            out["backtest"] = backtest(engine, origins=args.origins)
        out["backtest_seconds"] = time.perf_counter() - t0
        engine.dispose()
    return out


def _off(quarter: dict[str, Any], key: str) -> float:
    """How far the quarter's figure ``key`` is from the realized pipeline, relatively."""
    return (quarter[key] - quarter["actual"]) / quarter["actual"]


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--seeds", type=int, nargs="+", default=[7, 11, 23])
    ap.add_argument("--style", choices=["demo", "alt", "long", "lean"], default="demo")
    ap.add_argument("--accounts", type=int, default=5)
    ap.add_argument("--months", type=int, default=30)
    ap.add_argument("--origins", type=int, default=4)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    worlds = []
    for seed in args.seeds:
        w = one_world(seed, args)
        worlds.append(w)
        nq = w["next_quarter"]
        print(f"seed {seed} ({args.style}): next quarter actual {nq['actual']:,.0f}, P50 {nq['p50']:,.0f} "
              f"({nq['p50_error']:+.1%}), P10-P90 {nq['p10']:,.0f}-{nq['p90']:,.0f} "
              f"{'inside' if nq['inside'] else 'OUTSIDE'}; the world's expected {nq['expected']:,.0f} "
              f"({_off(nq, 'expected'):+.1%}); under the run-rate plan "
              f"{nq['expected_at_run_rate']:,.0f} ({_off(nq, 'expected_at_run_rate'):+.1%})",
              file=sys.stderr)  # fmt: skip
        ex = w["executed_plan"]
        print(f"  under the executed spend: P50 {ex['p50']:,.0f} ({ex['p50_error']:+.1%}), P10-P90 "
              f"{ex['p10']:,.0f}-{ex['p90']:,.0f} {'inside' if ex['inside'] else 'OUTSIDE'}",
              file=sys.stderr)  # fmt: skip
        for m, s in w.get("backtest", {}).get("summary", {}).items():
            print(f"  back-test {m:15s} coverage {s['coverage_p10_p90']}  median |P50 error| "
                  f"{s['median_abs_p50_error']}  ({s['origins']} origins)", file=sys.stderr)  # fmt: skip
    if args.json:
        print(json.dumps(worlds, default=float, indent=1))
        return
    print(f"\n{'world':10s} {'next quarter P50 error':>23s} {'inside P10-P90':>15s} "
          f"{'executed spend: error':>22s} {'inside':>7s} {'expected vs actual':>19s} "
          f"{'run-rate expected vs actual':>28s}")  # fmt: skip
    for w in worlds:
        nq, ex = w["next_quarter"], w["executed_plan"]
        print(f"{w['seed']:<10d} {nq['p50_error']:>+23.1%} {str(nq['inside']):>15s} "
              f"{ex['p50_error']:>+22.1%} {str(ex['inside']):>7s} "
              f"{_off(nq, 'expected'):>+19.1%} {_off(nq, 'expected_at_run_rate'):>+28.1%}")  # fmt: skip
    if not args.origins:
        return
    print(
        f"\n{'back-test (pooled origins)':28s} {'coverage P10-P90':>17s} {'median |P50 error|':>19s}"
    )
    for m in ("model", "naive", "seasonal_naive"):
        rows = [r for w in worlds for r in w.get("backtest", {}).get("origins", []) if r.get(m)]
        banded = [r for r in rows if r[m]["p10"] is not None]
        cov = sum(r[m]["p10"] <= r["actual"] <= r[m]["p90"] for r in banded)
        err = (
            np.median([abs(r[m]["p50"] - r["actual"]) / r["actual"] for r in rows])
            if rows
            else float("nan")
        )
        print(f"{m:28s} {f'{cov}/{len(banded)}':>17s} {err:>19.1%}")


if __name__ == "__main__":
    main()
