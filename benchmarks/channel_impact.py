"""What each channel is worth, judged against demo worlds' truth, beside two references.

For each world (``--seeds``; ``--style demo``, or a marketing world built unlike the
demo's, ``ingest.demo.marketing.STYLES``: ``alt``, short lags, flatter saturation, uniform
recall, no organic demand; ``long``, carry-over of months and leads that take one to two
months; ``lean``, paid channels near break-even and most pipeline bought by no spend) the script
runs the product path on a fresh SQLite store: ``build_world`` + ``write_world``, ingest
of accounts, leads, opportunities, spend, experiments and answers, channel classification
(``nlp.channels.classify_store``), then ``marketing.measure.measure_and_store`` with its
default settings (what ``undertow measure`` runs). Side by side, on the same weekly data:

- (a) **PyMC-Marketing alone**: its ``MMM`` with its default priors, geometric adstock
  (l_max 8), logistic saturation, yearly seasonality and a trend, no lift tests and no
  answers; PyMC's default sampler, 2 chains of 500 + 500;
- (b) **answers alone**: each channel's post-stratified self-reported share (bootstrap
  90% interval) times the outcome of the weeks; the dark pipeline as the dark share.

Judged against ``marketing_truth.csv``: per paid channel whether the 90% ROI interval
covers the true ROI, the interval's width over the true ROI, the ROI error; per world the
paid-total and dark-pipeline errors, whether their 90% intervals hold the truth, and wall
time. The dark pipeline is judged against the world's expected dark pipeline (what its
dark demand should bring) and, beside it, the one its opportunities realized
(``realized_dark_pipeline``: the same demand with its deals' noise). The last table pools
every channel.

    .venv/bin/python benchmarks/channel_impact.py [--seeds 7 11 23] [--style demo|alt|long|lean]
        [--accounts 60] [--months 30] [--no-references] [--json]
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


def build_store(seed: int, accounts: int, months: int, style: str, folder: Path) -> tuple[Any, Path]:
    from marketing.demo_store import demo_store

    store = demo_store(folder, seed=seed, accounts=accounts, months=months, end=END, style=style)
    return store.engine, store.world_dir


def pymc_marketing_defaults(data: Any) -> dict[str, np.ndarray]:
    """Reference (a): contribution draws per channel of PyMC-Marketing with its defaults."""
    import pymc as pm
    from pymc_marketing.mmm import GeometricAdstock, LogisticSaturation
    from pymc_marketing.mmm.multidimensional import MMM

    channels = [str(c) for c in data.spend.columns]
    x = data.spend.copy()
    x.columns = channels
    x.insert(0, "date", pd.to_datetime(data.weeks))
    x["t"] = np.arange(len(x), dtype=float)
    mmm = MMM(date_column="date", channel_columns=channels, control_columns=["t"],
              adstock=GeometricAdstock(l_max=8), saturation=LogisticSaturation(),
              yearly_seasonality=2)  # fmt: skip
    mmm.build_model(x, pd.Series(data.outcome, name="y"))
    with mmm.model:
        idata = pm.sample(draws=500, tune=500, chains=2, cores=2, random_seed=1, progressbar=False)
    contrib = np.asarray(idata.posterior["channel_contribution"])  # chain, draw, date, channel
    scale = float(np.asarray(mmm.scalers._target))
    draws = contrib.reshape(-1, *contrib.shape[2:]).sum(axis=1) * scale
    divergences = int(np.asarray(idata.sample_stats["diverging"]).sum())
    return {"channels": channels, "draws": draws, "divergences": divergences}


def judge(rows: list[dict[str, Any]], truth: pd.DataFrame) -> list[dict[str, Any]]:
    tc = truth[truth["figure"] == "channel"].set_index("channel")
    out = []
    for r in rows:
        true = float(tc.loc[r["channel"], "roi"])
        lo, hi, mid = r["roi_low"], r["roi_high"], r["roi"]
        out.append({
            "channel": r["channel"], "true_roi": true, "roi": mid, "low": lo, "high": hi,
            "covered": lo is not None and lo <= true <= hi,
            "width": (hi - lo) / true if lo is not None else None,
            "error": abs(mid - true) / true,
        })  # fmt: skip
    return out


def one_world(seed: int, args: argparse.Namespace) -> dict[str, Any]:
    from marketing.measure import measure_and_store, measurement_data

    with tempfile.TemporaryDirectory() as tmp:
        engine, folder = build_store(seed, args.accounts, args.months, args.style, Path(tmp))
        truth = pd.read_csv(folder / "marketing_truth.csv")
        t0 = time.perf_counter()
        run = measure_and_store(engine)
        wall = time.perf_counter() - t0
        res = run["result"]
        tf = truth.set_index("figure")["contribution"]
        spend = {c["channel"]: c["spend"] for c in res["channels"]}
        out: dict[str, Any] = {
            "seed": seed, "style": args.style, "weeks": run["weeks"],
            "undertow": {
                "channels": judge(res["channels"], truth),
                "paid_error": res["paid_contribution"] / tf["paid_total"] - 1,
                "paid_covered": res["paid_contribution_low"] <= tf["paid_total"] <= res["paid_contribution_high"],
                "dark_error": res["dark_pipeline"] / tf["dark_pipeline"] - 1,
                "dark_covered": res["dark_pipeline_low"] <= tf["dark_pipeline"] <= res["dark_pipeline_high"],
                "dark_error_realized": res["dark_pipeline"] / tf["realized_dark_pipeline"] - 1,
                "seconds": wall, "diagnostics": run["diagnostics"],
            },
        }  # fmt: skip
        data, _ = measurement_data(engine, run["as_of"], "pipeline")
        ev = data.answers
        total = float(np.sum(data.outcome))
        shares = ev.shares.set_index("channel")
        b_rows = [{
            "channel": c, "roi": shares.loc[c, "share"] * total / spend[c],
            "roi_low": shares.loc[c, "share_low"] * total / spend[c],
            "roi_high": shares.loc[c, "share_high"] * total / spend[c],
        } for c in spend]  # fmt: skip
        out["answers_alone"] = {
            "channels": judge(b_rows, truth),
            "paid_error": sum(shares.loc[c, "share"] for c in spend) * total / tf["paid_total"] - 1,
            "dark_error": ev.dark_share * total / tf["dark_pipeline"] - 1,
            "dark_error_realized": ev.dark_share * total / tf["realized_dark_pipeline"] - 1,
            "seconds": 0.0,
        }
        if args.references:
            t0 = time.perf_counter()
            ref = pymc_marketing_defaults(data)
            wall = time.perf_counter() - t0
            a_rows = []
            for j, c in enumerate(ref["channels"]):
                roi = ref["draws"][:, j] / spend[c]
                lo, hi = np.percentile(roi, [5, 95])
                a_rows.append({"channel": c, "roi": float(roi.mean()), "roi_low": float(lo), "roi_high": float(hi)})
            paid = ref["draws"].sum(axis=1)
            paid_lo, paid_hi = np.percentile(paid, [5, 95])
            out["pymc_marketing_defaults"] = {
                "channels": judge(a_rows, truth),
                "paid_error": float(paid.mean()) / tf["paid_total"] - 1,
                "paid_covered": bool(paid_lo <= tf["paid_total"] <= paid_hi),
                "dark_error": None, "seconds": wall, "divergences": ref["divergences"],
            }  # fmt: skip
        engine.dispose()
    return out


def _rounded(error: float | None) -> float | None:
    return None if error is None else round(float(error), 4)


def _pct(errors: list[float | None]) -> str:
    return " ".join("-" if e is None else f"{e:+.1%}" for e in errors)


def _held(covered: bool) -> str:
    return "holds the truth" if covered else "MISSES the truth"


def _count(flags: list[bool | None]) -> str | None:
    known = [f for f in flags if f is not None]
    return f"{sum(known)}/{len(known)}" if known else None


def summary(worlds: list[dict[str, Any]], method: str) -> dict[str, Any]:
    rows = [c for w in worlds if method in w for c in w[method]["channels"]]
    if not rows:
        return {}
    return {
        "rois": len(rows),
        "covered": sum(r["covered"] for r in rows),
        "median_width": float(np.median([r["width"] for r in rows if r["width"] is not None])),
        "median_error": float(np.median([r["error"] for r in rows])),
        "paid_errors": [_rounded(w[method]["paid_error"]) for w in worlds if method in w],
        "dark_errors": [_rounded(w[method]["dark_error"]) for w in worlds if method in w],
        # against the dark pipeline the world's opportunities realized (deal noise and all)
        "dark_errors_realized": [_rounded(w[method].get("dark_error_realized")) for w in worlds if method in w],
        # how often the 90% intervals of the two totals held the truth (None: no interval)
        "paid_covered": _count([w[method].get("paid_covered") for w in worlds if method in w]),
        "dark_covered": _count([w[method].get("dark_covered") for w in worlds if method in w]),
        "seconds": [round(w[method]["seconds"], 1) for w in worlds if method in w],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, nargs="+", default=[7, 11, 23])
    ap.add_argument("--style", choices=["demo", "alt", "long", "lean"], default="demo")
    ap.add_argument("--accounts", type=int, default=60)
    ap.add_argument("--months", type=int, default=30)
    ap.add_argument("--no-references", dest="references", action="store_false")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    worlds = []
    for seed in args.seeds:
        w = one_world(seed, args)
        worlds.append(w)
        u = w["undertow"]
        d = u["diagnostics"]
        served = f" (attempt {d['served_attempt']} of {d['attempts']} served)" if d["attempts"] > 1 else ""
        print(f"seed {seed} ({args.style}, {w['weeks']} weeks): measure {u['seconds']:.0f} s, "
              f"R-hat {d['r_hat_max']}, divergences {d['divergences']}, "
              f"{'converged' if d['converged'] else 'NOT CONVERGED'}{served}", file=sys.stderr)  # fmt: skip
        for r in u["channels"]:
            print(f"  {r['channel']:12s} ROI {r['roi']:5.2f} ({r['low']:.2f}-{r['high']:.2f}) true "
                  f"{r['true_roi']:.2f} {'covered' if r['covered'] else 'MISSED'}", file=sys.stderr)  # fmt: skip
        print(f"  paid total {u['paid_error']:+.1%} (90% interval {_held(u['paid_covered'])}), dark pipeline "
              f"{u['dark_error']:+.1%} (90% interval {_held(u['dark_covered'])}; against the realized "
              f"{u['dark_error_realized']:+.1%})", file=sys.stderr)  # fmt: skip
    methods = ["undertow", "pymc_marketing_defaults", "answers_alone"]
    table = {m: summary(worlds, m) for m in methods}
    if args.json:
        print(json.dumps({"worlds": worlds, "summary": table}, default=float, indent=1))
        return
    print(f"\n{'method':26s} {'covered':>9s} {'width/true':>10s} {'ROI error':>9s}  paid-total errors      dark errors           seconds")
    lines = []
    for m in methods:
        s = table[m]
        if not s:
            continue
        print(f"{m:26s} {s['covered']:>3d}/{s['rois']:<5d} {s['median_width']:>10.2f} {s['median_error']:>9.1%}  "
              f"{_pct(s['paid_errors']):22s} {_pct(s['dark_errors']):21s} {s['seconds']}")  # fmt: skip
        if any(e is not None for e in s["dark_errors_realized"]):
            lines.append(f"{m}: dark pipeline against the realized one {_pct(s['dark_errors_realized'])}")
        if s["paid_covered"] or s["dark_covered"]:
            lines.append(f"{m}: the 90% interval held the true paid total on {s['paid_covered'] or '-'} "
                         f"worlds, the true dark pipeline on {s['dark_covered'] or '-'}")  # fmt: skip
    print("\n".join(["", *lines]) if lines else "")


if __name__ == "__main__":
    main()
