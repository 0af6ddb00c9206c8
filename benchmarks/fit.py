"""Fit + predict time and peak memory of the churn model at 10k and 100k accounts x 24 months.

Runs the whole compute path of `undertow fit` on a synthetic world (``tests/support/synthetic_world.py``,
about 2 texts per account-month): panel build, out-of-time back-test (3 origins x 3
models), final fit, forecast with 200-draw intervals, LTV and drivers. Store I/O is not
included (it depends on the database). Each size runs in a fresh subprocess so peak RSS
(``ru_maxrss``) is its own; it covers the world's generation too, which runs in that
process first (``benchmarks/scale.py`` reads a world generated beforehand, and measures
``undertow fit`` itself with ``--command-accounts``). Reference in the same run:
lifelines CoxPHFitter on the final panel's rows (static covariates), the plain baseline a
user would reach for.

    .venv/bin/python benchmarks/fit.py [--sizes 10000 100000]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

# benchmarks/ingest.py would shadow the ``ingest`` package: drop this folder from the path
if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)
sys.path.append(str(Path(__file__).resolve().parents[1] / "tests" / "support"))  # synthetic_world


def one(n: int) -> dict[str, float]:
    from synthetic_world import make_world

    from risk.fit import FitConfig, compute_fit

    t0 = time.perf_counter()
    world = make_world(n, months=24, seed=1)
    t1 = time.perf_counter()
    stages: list[float] = []
    result = compute_fit(
        world.inputs, FitConfig(), on_progress=lambda _: stages.append(time.perf_counter())
    )
    t2 = time.perf_counter()
    rows = result.panel.rows
    ref = {}
    if n <= 10_000:
        from lifelines import CoxPHFitter

        cols = result.model.features
        df = rows[cols + ["exposure", "event"]].copy()
        r0 = time.perf_counter()
        CoxPHFitter(penalizer=0.01).fit(df, duration_col="exposure", event_col="event")
        ref = {"lifelines_coxph_on_rows_s": round(time.perf_counter() - r0, 2)}
    return {
        "accounts": n,
        "panel_rows": len(rows),
        "texts": len(world.inputs.texts),
        "generate_s": round(t1 - t0, 2),
        "panel_s": round(stages[0] - t1, 2),
        "backtest_s": round(stages[1] - stages[0], 2),
        "final_fit_s": round(stages[2] - stages[1], 2),
        "predict_s": round(stages[3] - stages[2], 2),
        "fit_predict_total_s": round(t2 - t1, 2),
        "peak_rss_gb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2, 2),
        **ref,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--one", type=int, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(one(args.one)))
        return
    for n in args.sizes:
        out = subprocess.run(
            [sys.executable, __file__, "--one", str(n)], capture_output=True, text=True, check=True
        )
        res = json.loads(out.stdout.strip().splitlines()[-1])
        per_k = res["fit_predict_total_s"] / (n / 1000)
        print(json.dumps(res), f"| {per_k:.3f} s per 1k accounts", flush=True)


if __name__ == "__main__":
    main()
