"""The sales lists judged against the truth of demo worlds: demo -> ingest -> score -> fit -> eval.

For each world (default: seeds 7, 11 and 23 of 400 accounts, and seed 5 of 3,000 accounts,
the size of the issue's held-out world; all 24 months ending on ``--end``), the script
runs the product's library path on a fresh SQLite store in a temporary folder:
``ingest.demo.build_world`` + ``write_world``, ``ingest.pipeline.ingest_paths`` for every
kind, sentiment scoring, ``risk.fit.fit_and_store`` (the churn model, the expansion model
and their back-tests), then ``risk.signal_eval.judge_lists`` (what ``undertow eval
signals --truth truth.csv`` prints) at 180 days. Printed per world: the churn rate of the
top 25/50/100 of the risk list (by p_churn_90d, by revenue at risk, by the falling
sentiment trend) and the expansion rate of the top 25/50/100 of the expansion list (by
p_expand_180d, by the rising trend, by low p_churn), each next to the base rate and the
oracle; then the expansion model's out-of-time back-test (AUC next to its baselines,
ICI, expected vs observed) and its calibration by decile.

Sentiment: the product scorer (``nlp.scoring.score_store``) when its artifacts are
committed, else VADER as the stand-in ``vader-dev`` (the output says which). Scores are
kept in ``--cache`` (a folder; text hash + model version -> scores), so a rerun of the
same worlds scores nothing again.

    .venv/bin/python benchmarks/signals.py [--seeds 7 11 23] [--accounts 400]
        [--big-seed 5 --big-accounts 3000] [--end 2026-12-05] [--scorer auto|product|vader]
        [--cache .undertow/bench-scores] [--process demo|other] [--json]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

# benchmarks/ingest.py would shadow the ``ingest`` package: drop this folder from the path
if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)

ROOT = Path(__file__).resolve().parents[1]
SIZES = ("25", "50", "100")


def _demo_world_module() -> Any:
    """benchmarks/demo_world.py (its scorer choice and VADER stand-in are shared)."""
    spec = importlib.util.spec_from_file_location(
        "demo_world", Path(__file__).with_name("demo_world.py")
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _cached_scores(engine: Any, cache: Path | None, save: bool) -> int:
    """Load the cache's scores of the store's texts into it (``save``: the reverse)."""
    import pandas as pd
    from sqlalchemy import insert, select

    from ingest.db.schema import documents, sentiment_scores

    if cache is None:
        return 0
    path = cache / "sentiment_scores.parquet"
    if save:
        with engine.connect() as conn:
            rows = pd.DataFrame([dict(r._mapping) for r in conn.execute(select(sentiment_scores))])
        if path.exists() and len(rows):
            rows = pd.concat([pd.read_parquet(path), rows]).drop_duplicates(
                ["text_hash", "model_version"]
            )
        if len(rows):
            cache.mkdir(parents=True, exist_ok=True)
            rows.to_parquet(path, index=False)
        return len(rows)
    if not path.exists():
        return 0
    with engine.connect() as conn:
        hashes = {r[0] for r in conn.execute(select(documents.c.text_hash))}
    known = pd.read_parquet(path)
    known = known[known["text_hash"].isin(hashes)]
    if len(known):
        with engine.begin() as conn:
            conn.execute(insert(sentiment_scores), known.to_dict("records"))
    return len(known)


def other_expansions(
    rng: Any, firms: Any, fit: Any, mood: Any, alive: Any, churn_month: Any
) -> Any:
    """A world's expansions built differently from the demo's (``--process other``), to
    check that the product does not lean on its own generator: driven by a slow-moving
    mean of health (not this month's), with a threshold rather than a slope, smaller
    accounts growing faster, a pull around each contract anniversary (renewal talks, which
    no feature sees), and momentum (a recent expansion makes another more likely) instead
    of a cool-down. Same months, same accounts, same texts; only the deals differ."""
    import numpy as np

    from ingest.demo.firms import ARR_MEDIAN

    n, horizon = fit.shape
    signed = np.array([f.start_month for f in firms])
    size = -0.25 * np.log(np.array([f.arr / ARR_MEDIAN[f.segment] for f in firms]))
    base = np.array(
        [{"smb": -5.5, "mid_market": -5.6, "enterprise": -5.7}[f.segment] for f in firms]
    )
    slow = np.nan_to_num(fit[:, 0] + mood[:, 0])
    opened = np.zeros((n, horizon), dtype=bool)
    last = np.full(n, -(10**6))
    for t in range(horizon):
        slow = np.where(
            alive[:, t], 0.75 * slow + 0.25 * np.nan_to_num(fit[:, t] + mood[:, t]), slow
        )
        tenure = t - signed
        logit = (
            base
            + 2.2 / (1 + np.exp(-3.0 * (slow - 0.6)))
            + size
            + 0.9 * np.isin(tenure % 12, (10, 11))
            + 0.7 * ((t - last) <= 12)
        )
        here = alive[:, t] & (t > signed) & (churn_month != t)
        opens = here & (rng.random(n) < 1 / (1 + np.exp(-logit)))
        opened[:, t] = opens
        last = np.where(opens, t, last)
    return opened


def one_world(
    seed: int,
    accounts: int,
    end: str,
    scorer: str,
    cache: Path | None,
    data_dir: Path,
    process: str = "demo",
) -> dict[str, Any]:
    from api.commands.fitting import fit_summary
    from ingest.db.engine import open_store
    from ingest.demo import build_world, write_world
    from ingest.pipeline import ingest_paths
    from ingest.settings import Settings
    from risk.feeds import get_run
    from risk.fit import fit_and_store
    from risk.signal_eval import judge_lists
    from risk.truth_check import read_truth

    demo = _demo_world_module()
    with tempfile.TemporaryDirectory(prefix="undertow-signals-") as tmp:
        folder = Path(tmp)
        t0 = time.perf_counter()
        if process == "other":
            from ingest.demo import dynamics

            demo_process, dynamics._expansions = dynamics._expansions, other_expansions
        try:
            world = build_world(accounts=accounts, seed=seed, end=end)
        finally:
            if process == "other":
                dynamics._expansions = demo_process
        files = write_world(world, folder / "world")
        settings = Settings(database_url=f"sqlite:///{folder / 'store.db'}", data_dir=data_dir)
        engine = open_store(settings)
        for kind in demo.KIND_ORDER:
            if kind in files:
                ingest_paths(engine, kind, [files[kind]], settings=settings)
        t1 = time.perf_counter()
        reused = _cached_scores(engine, cache, save=False)
        if scorer == "product":
            from nlp.scoring import score_store

            scored = score_store(engine, settings)
        else:
            scored = demo.vader_scores(engine) if not reused else {"model_version": demo.STAND_IN}
        _cached_scores(engine, cache, save=True)
        t2 = time.perf_counter()
        fit = fit_summary(fit_and_store(engine, settings))
        t3 = time.perf_counter()
        truth = read_truth(files["truth"], optional=("expanded_at_true",))
        judged = judge_lists(engine, truth, 180)
        metrics = get_run(engine)["metrics"]
        engine.dispose()
    return {
        "world": f"seed {seed}, {accounts:,} accounts"
        + (", expansions built differently" if process == "other" else ""),
        "scorer": scored.get("model_version"),
        "scores_reused": reused,
        "fit": {
            k: fit.get(k)
            for k in ("as_of", "accounts", "model_version", "auc_180d", "model_choice", "expansion")
        },
        "lists": judged,
        "calibration": ((metrics.get("expansion") or {}).get("backtest") or {}).get("calibration"),
        "out_of_time_lists": metrics.get("lists"),
        "seconds": {
            "build_ingest": round(t1 - t0, 1),
            "score": round(t2 - t1, 1),
            "fit": round(t3 - t2, 1),
        },
    }


def _rate(block: dict[str, Any], ranking: str, n: str) -> str:
    r = block["rankings"].get(ranking, {}).get("top", {}).get(n) or {}
    if r.get("rate") is None:
        return "-"
    short = f" (n={r['n']})" if r["n"] < int(n) else ""
    return f"{r['rate']:.2f}{short}"


def table(r: dict[str, Any]) -> list[str]:
    lists = r["lists"]
    risk, exp = lists["risk"], lists["expansion"]
    rows = [
        f"### {r['world']} (as of {lists['as_of']}, {lists['accounts']} active accounts; "
        f"churned in 180 d: {risk['events']}, expanded: {exp.get('events')}; scorer {r['scorer']})",
        "",
        "| list | ranking | top 25 | top 50 | top 100 | AUC |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for kind, block, names in (
        ("risk (churn rate)", risk, ("p_churn_90d", "revenue_at_risk", "trend", "oracle")),
        ("expansion (expansion rate)", exp, ("p_expand_180d", "trend", "low_p_churn", "oracle")),
    ):
        if block.get("status") == "skipped":
            continue
        for name in names:
            auc = block["rankings"].get(name, {}).get("auc")
            cells = " | ".join(_rate(block, name, n) for n in SIZES)
            rows.append(f"| {kind} | {name} | {cells} | {'-' if auc is None else f'{auc:.3f}'} |")
        base = block["base_rate"]
        rows.append(f"| {kind} | base rate | {base:.2f} | {base:.2f} | {base:.2f} | 0.500 |")
    e = r["fit"].get("expansion") or {}
    if e.get("status") == "ok":
        rows.append("")
        rows.append(
            f"expansion back-test ({', '.join(e.get('backtest_origins') or [])}; 180 d): "
            f"AUC {e['backtest_auc']:.3f} (trend {e['backtest_auc_trend'] or float('nan'):.3f}, "
            f"CRM + history only {e['backtest_auc_crm_history'] or float('nan'):.3f}), "
            f"ICI {e['backtest_ici']:.3f}, Brier {e['backtest_brier']:.4f} "
            f"(base rate {e['backtest_base_rate']:.3f}), expected {e['backtest_expected']:.1f} "
            f"vs observed {e['backtest_observed']} openings; calibration factor "
            f"{e['calibration_factor']:.3f}; churn model {r['fit']['model_choice']['chosen']} "
            f"(truth AUC 180 d of the snapshot in `eval churn`)"
        )
    cal = r.get("calibration") or []
    if cal:
        rows.append(
            "calibration by decile (predicted / observed): "
            + ", ".join(f"{c['predicted']:.2f}/{c['observed']:.2f}" for c in cal)
        )
    rows.append(f"seconds: {r['seconds']}")
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="*", default=[7, 11, 23])
    ap.add_argument("--accounts", type=int, default=400)
    ap.add_argument("--big-seed", type=int, default=5)
    ap.add_argument("--big-accounts", type=int, default=3000, help="0: no big world")
    ap.add_argument("--end", default="2026-12-05")
    ap.add_argument("--scorer", choices=["auto", "product", "vader"], default="auto")
    ap.add_argument("--cache", type=Path, default=ROOT / ".undertow" / "bench-scores")
    ap.add_argument("--process", choices=["demo", "other"], default="demo",
                    help="other: the expansions of other_expansions (a generalization check)")  # fmt: skip
    ap.add_argument("--json", action="store_true", help="print each world's figures as JSON")
    args = ap.parse_args()
    demo = _demo_world_module()
    committed = demo.product_scorer_committed()
    scorer = args.scorer if args.scorer != "auto" else ("product" if committed else "vader")
    if scorer == "vader":
        print("NOTE: sentiment from VADER (stand-in model version 'vader-dev')", flush=True)
    worlds = [(s, args.accounts) for s in args.seeds]
    if args.big_accounts:
        worlds.append((args.big_seed, args.big_accounts))
    data_dir = ROOT / ".undertow"
    for seed, n in worlds:
        r = one_world(seed, n, args.end, scorer, args.cache, data_dir, args.process)
        print("\n".join(table(r)), flush=True)
        if args.json:
            print(json.dumps(r, default=str), flush=True)
        print(flush=True)


if __name__ == "__main__":
    main()
