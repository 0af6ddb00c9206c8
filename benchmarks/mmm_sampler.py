"""How fast the media-mix model samples: nutpie (the default) against PyMC's own NUTS, and
`undertow measure` end to end on 130 weeks x 5 channels.

One demo world (``--seed``, 30 months: 130 complete weeks, five paid channels) in a fresh
SQLite store (``marketing.demo_store``). Then, in the same run:

1. ``undertow measure --json`` as a subprocess with its default settings (what a user
   runs): wall time of the whole command, from process start to its JSON;
2. the same model fitted by ``MediaMixModel`` with each sampler at the default draws:
   wall time, the smallest bulk ESS and ESS per second, the largest R-hat, divergences;
3. with nutpie, the same fit once more with its first attempt judged not converged (as
   if its chains had split), so that it samples a second time with twice the tuning:
   wall time against step 2's, what a second attempt adds.

    .venv/bin/python benchmarks/mmm_sampler.py [--seed 7] [--samplers nutpie pymc]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

# benchmarks/ingest.py would shadow the ``ingest`` package: drop this folder from the path
if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--samplers", nargs="+", default=["nutpie", "pymc"])
    args = ap.parse_args()
    from marketing.measure import default_as_of, measurement_data
    from marketing.mmm import MediaMixConfig, MediaMixModel

    with tempfile.TemporaryDirectory() as tmp:
        from marketing.demo_store import demo_store

        engine = demo_store(Path(tmp), seed=args.seed, accounts=5, months=30, end="2026-11-29").engine
        url = str(engine.url)
        engine.dispose()
        load = os.getloadavg()[0]
        env = {**os.environ, "UNDERTOW_DATABASE_URL": url, "UNDERTOW_DATA_DIR": str(Path(tmp) / "data"),
               "HF_HUB_OFFLINE": "1"}  # fmt: skip
        cli = Path(sys.executable).with_name("undertow")
        t0 = time.perf_counter()
        out = subprocess.run([str(cli), "measure", "--json"], env=env, capture_output=True, text=True, check=True)
        wall = time.perf_counter() - t0
        measured = json.loads(out.stdout)
        print(f"undertow measure (defaults): {wall:.1f} s for {measured['weeks']} weeks x "
              f"{len(measured['channels'])} channels; R-hat {measured['diagnostics']['r_hat_max']}, "
              f"divergences {measured['diagnostics']['divergences']} (load {load:.1f})")  # fmt: skip

        from ingest.db.engine import open_store
        from ingest.settings import Settings

        engine = open_store(Settings(database_url=url, data_dir=Path(tmp) / "data"))
        data, _ = measurement_data(engine, default_as_of(engine), "pipeline")
        rows = []
        for sampler in args.samplers:
            cfg = replace(MediaMixConfig(), sampler=sampler)
            t0 = time.perf_counter()
            model = MediaMixModel(cfg).fit(data)
            secs = time.perf_counter() - t0
            d = model.diagnostics_
            rows.append({"sampler": sampler, "seconds": secs, "ess_bulk_min": d["ess_bulk_min"],
                         "ess_per_second": d["ess_bulk_min"] / secs, "r_hat_max": d["r_hat_max"],
                         "divergences": d["divergences"], "load": os.getloadavg()[0]})  # fmt: skip
        if "nutpie" in args.samplers:
            retried = _with_a_second_attempt(MediaMixModel, replace(MediaMixConfig(), sampler="nutpie"), data)
        engine.dispose()
    print(f"\n{'sampler':8s} {'seconds':>8s} {'min bulk ESS':>13s} {'ESS/s':>7s} {'R-hat max':>10s} {'divergences':>12s} {'load':>5s}")
    for r in rows:
        print(f"{r['sampler']:8s} {r['seconds']:8.1f} {r['ess_bulk_min']:13.0f} {r['ess_per_second']:7.2f} "
              f"{r['r_hat_max']:10.4f} {r['divergences']:12d} {r['load']:5.1f}")  # fmt: skip
    if len(rows) == 2:
        print(f"\n{rows[1]['sampler']} / {rows[0]['sampler']} wall time: {rows[1]['seconds'] / rows[0]['seconds']:.2f}x")
    if "nutpie" in args.samplers:
        one = next(r["seconds"] for r in rows if r["sampler"] == "nutpie")
        print(f"\nnutpie, first attempt judged not converged: {retried:.1f} s for two attempts, "
              f"{retried / one:.2f}x the one-attempt fit ({one:.1f} s)")


def _with_a_second_attempt(model_class: Any, cfg: Any, data: Any) -> float:
    """Wall time of a fit whose first attempt is judged not converged."""
    import marketing.mmm as mmm_module

    judged = mmm_module._diagnostics
    calls: list[int] = []

    def first_one_split(idata: Any, config: Any) -> dict[str, Any]:
        verdict = judged(idata, config)
        calls.append(1)
        return {**verdict, "converged": False} if len(calls) == 1 else verdict

    mmm_module._diagnostics = first_one_split
    try:
        t0 = time.perf_counter()
        model = model_class(cfg).fit(data)
        secs = time.perf_counter() - t0
    finally:
        mmm_module._diagnostics = judged
    assert model.diagnostics_["attempts"] == 2
    return secs


if __name__ == "__main__":
    main()
