"""The churn model judged against the truth of demo worlds: demo -> ingest -> score -> fit -> eval.

For each world (default: seeds 7 and 11 from the phrase bank, plus a ``corpus`` world whose
texts are the UCI "Sentiment Labelled Sentences" from ``/work/shared/data/sentiment`` when
present), the script runs the product's library path on a fresh SQLite store in a temporary
folder: ``ingest.demo.build_world`` + ``write_world``, ``ingest.pipeline.ingest_paths`` for
every kind, sentiment scoring, ``risk.fit.fit_and_store`` (back-test and model choice), then
``risk.truth_check.judge_against_truth`` (what ``undertow eval churn`` prints) at 180 days,
and one scenario (``undertow scenario run``: SMB sentiment falls by 0.2) as a change of the
180-day expected churned ARR.

Sentiment scorer: the product scorer (``nlp.scoring.score_store``) when the sentiment
model's artifacts are committed (``git ls-files nlp/sentiment/artifacts``); otherwise VADER
scores stored as model version ``vader-dev``, a development stand-in, and the output says so.

    .venv/bin/python benchmarks/demo_world.py [--seeds 7 11] [--accounts 400] [--no-corpus]
        [--scorer auto|product|vader] [--json]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

# benchmarks/ingest.py would shadow the ``ingest`` package: drop this folder from the path
if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)

ROOT = Path(__file__).resolve().parents[1]
UCI = ROOT / "../shared/data/sentiment/uci_sentiment_labelled_sentences"
STAND_IN = "vader-dev"
SCENARIO = "segment=smb:sentiment-=0.2"


def product_scorer_committed() -> bool:
    """Whether the sentiment model's artifacts are in git (the scorer can load them)."""
    out = subprocess.run(
        ["git", "ls-files", "nlp/sentiment/artifacts"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    return any(line.endswith(("head.json", "meta.json")) for line in out.stdout.splitlines())


def uci_corpus(folder: Path) -> Path | None:
    """The UCI sentences (``text<TAB>label`` files) as one text,label CSV in ``folder``."""
    import pandas as pd

    if not UCI.is_dir():
        return None
    rows = []
    for f in sorted(UCI.glob("*_labelled.txt")):
        for line in f.read_text(encoding="utf-8", errors="replace").splitlines():
            text, sep, label = line.rpartition("\t")
            if sep and label.strip() in ("0", "1") and text.strip():
                rows.append({"text": text.strip(), "label": int(label)})
    if not rows:
        return None
    path = folder / "uci_corpus.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def vader_scores(engine: Any) -> dict[str, Any]:
    """Score every stored text with VADER as the stand-in model version."""
    from sqlalchemy import insert, select
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    from ingest.db.schema import documents, sentiment_scores

    analyzer = SentimentIntensityAnalyzer()
    t0 = time.perf_counter()
    with engine.begin() as conn:
        rows = conn.execute(select(documents.c.text_hash, documents.c.text)).all()
        seen: set[str] = set()
        recs = []
        for h, text in rows:
            if h in seen:
                continue
            seen.add(h)
            v = analyzer.polarity_scores(text or "")
            recs.append(
                {
                    "text_hash": h,
                    "model_version": STAND_IN,
                    "p_negative": v["neg"],
                    "p_neutral": v["neu"],
                    "p_positive": v["pos"],
                    "sentiment": v["compound"],
                    "n_chunks": 1,
                    "scored_at": datetime(2026, 1, 1),
                }
            )
        if recs:
            conn.execute(insert(sentiment_scores), recs)
    return {"scored": len(recs), "model_version": STAND_IN, "seconds": time.perf_counter() - t0}


def one_world(seed: int, accounts: int, corpus: Path | None, scorer: str) -> dict[str, Any]:
    from api.commands.fitting import fit_summary
    from ingest.db.engine import open_store
    from ingest.demo import build_world, write_world
    from ingest.pipeline import ingest_paths
    from ingest.records import INGEST_ORDER
    from ingest.settings import Settings
    from risk.fit import fit_and_store
    from risk.scenarios import run_scenario
    from risk.truth_check import judge_against_truth, read_truth

    with tempfile.TemporaryDirectory(prefix="undertow-demo-") as tmp:
        folder = Path(tmp)
        t0 = time.perf_counter()
        files = write_world(
            build_world(accounts=accounts, seed=seed, corpus=corpus), folder / "world"
        )
        settings = Settings(database_url=f"sqlite:///{folder / 'store.db'}", data_dir=folder)
        engine = open_store(settings)
        for kind in INGEST_ORDER:
            if kind in files:
                ingest_paths(engine, kind, [files[kind]], settings=settings)
        t1 = time.perf_counter()
        if scorer == "product":
            from nlp.scoring import score_store

            scored = score_store(engine, settings)
        else:
            scored = vader_scores(engine)
        t2 = time.perf_counter()
        fit = fit_summary(fit_and_store(engine, settings))
        t3 = time.perf_counter()
        judged = judge_against_truth(engine, settings, read_truth(files["truth"]), 180)
        scen = run_scenario(engine, settings, "smb gloom", [SCENARIO])
        engine.dispose()
    return {
        "world": f"seed {seed}" + (" corpus" if corpus else ""),
        "scorer": scored.get("model_version"),
        "fit": {
            k: fit.get(k)
            for k in (
                "as_of",
                "accounts",
                "model_version",
                "c_index",
                "integrated_brier",
                "auc_180d",
                "model_choice",
                "candidates",
                "expected_churns",
            )
        },  # fmt: skip
        "truth": judged,
        "scenario": {"assumption": SCENARIO, **scen["horizons"]["180"]["total"]},
        "seconds": {
            "build_ingest": round(t1 - t0, 1),
            "score": round(t2 - t1, 1),
            "fit": round(t3 - t2, 1),
        },
    }


def row(r: dict[str, Any]) -> str:
    t, v = r["truth"], r["truth"].get("variants", {})
    cands = r["fit"]["candidates"] or {}
    bt = " / ".join(
        f"{k} {c['full']['auc_180d']:.3f}"
        for k, c in cands.items()
        if c.get("status") == "ok" and c.get("full", {}).get("auc_180d") is not None
    )
    return (
        f"| {r['world']} | {r['scorer']} | {t['accounts']} | {t['observed']} | "
        f"{t['expected']:.1f} ({t['expected_error_pct']:+.0f}%) | {t['auc']:.3f} | "
        f"{v.get('no_text', {}).get('auc', float('nan')):.3f} | "
        f"{v.get('crm_only', {}).get('auc', float('nan')):.3f} | {t.get('text_lift_auc', 0):+.3f} | "
        f"{r['fit']['model_choice']['chosen']} | {bt} | {r['scenario']['delta_pct']:+.1f}% |"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[7, 11])
    ap.add_argument("--accounts", type=int, default=400)
    ap.add_argument("--no-corpus", action="store_true")
    ap.add_argument("--scorer", choices=["auto", "product", "vader"], default="auto")
    ap.add_argument("--json", action="store_true", help="print each world's figures as JSON")
    args = ap.parse_args()
    committed = product_scorer_committed()
    scorer = args.scorer if args.scorer != "auto" else ("product" if committed else "vader")
    if scorer == "vader":
        print(
            "NOTE: sentiment from VADER (stand-in model version 'vader-dev'): "
            + (
                "the product scorer's artifacts are not committed yet"
                if not committed
                else "chosen with --scorer vader"
            ),
            flush=True,
        )
    worlds: list[tuple[int, Path | None]] = [(s, None) for s in args.seeds]
    with tempfile.TemporaryDirectory(prefix="undertow-corpus-") as tmp:
        corpus = None if args.no_corpus else uci_corpus(Path(tmp))
        if corpus is not None:
            worlds.append((args.seeds[0], corpus))
        elif not args.no_corpus:
            print("NOTE: no corpus world: /work/shared/data/sentiment UCI sentences not found")
        print("| world | scorer | active | observed 180d | expected 180d | AUC | AUC no-text | "
              "AUC CRM-only | text lift | chosen | back-test AUC 180d (full) | "
              f"scenario '{SCENARIO}' 180d |")  # fmt: skip
        print("|---|---|---:|---:|---:|---:|---:|---:|---:|---|---|---:|")
        for seed, path in worlds:
            r = one_world(seed, args.accounts, path, scorer)
            print(row(r), flush=True)
            if args.json:
                print(json.dumps(r, default=str), flush=True)


if __name__ == "__main__":
    main()
