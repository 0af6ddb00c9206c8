"""Dark-funnel figures against a demo world's truth: an out-of-sample check.

Builds a demo world (``undertow demo`` library), ingests accounts, attribution answers
and opportunities into a fresh SQLite store, labels the answers (``classify_store``),
measures (``marketing.dark_funnel.measure``) and compares with ``truth.csv``:

- truth dark share: answering accounts whose ``reported_channels`` name a dark channel;
- truth channel mix: each answering account's reported channels, equal weights;
- answer accuracy: the predicted primary channel is among the reported channels.

Prints figures only (no answer texts: the demo's phrasings stay unseen).

    .venv/bin/python benchmarks/dark_funnel_truth.py [--seed 7] [--accounts 400] [--months 24]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

# the repository root first: a benchmarks/ script named like a package must not shadow it
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--accounts", type=int, default=400)
    ap.add_argument("--months", type=int, default=24)
    ap.add_argument("--world", type=Path, default=None, help="use this demo folder instead")
    args = ap.parse_args()

    from ingest.db.engine import open_store
    from ingest.demo import build_world, write_world
    from ingest.pipeline import ingest_paths
    from ingest.settings import Settings
    from marketing.dark_funnel import measure
    from nlp.channels import CHANNELS, DARK_CHANNELS, classify_store

    tmp = Path(tempfile.mkdtemp(prefix="funnel_"))
    if args.world:
        files = {
            k: args.world / f"{k}.csv"
            for k in ("accounts", "attribution", "opportunities", "truth")
        }
    else:
        world = build_world(accounts=args.accounts, months=args.months, seed=args.seed)
        files = write_world(world, tmp / "world")
    settings = Settings(database_url=f"sqlite:///{tmp / 'u.db'}", data_dir=tmp / "data")
    engine = open_store(settings)
    for kind in ("accounts", "attribution", "opportunities"):
        ingest_paths(engine, kind, [Path(files[kind])], settings=settings)
    t0 = time.perf_counter()
    labeled = classify_store(engine, settings)
    seconds = time.perf_counter() - t0
    m = measure(engine)

    truth = pd.read_csv(files["truth"], keep_default_na=False, dtype=str)
    answered = truth[truth["answered"].str.lower() == "true"]
    reported = [[c for c in v.split("|") if c] or ["other"] for v in answered["reported_channels"]]
    true_dark = sum(any(c in DARK_CHANNELS for c in r) for r in reported) / len(reported)
    mix = {c: 0.0 for c in CHANNELS}
    for r in reported:
        for c in r:
            mix[c] += 1 / len(r) / len(reported)
    est_mix = {c["channel"]: c["self_reported_share"] or 0.0 for c in m["channels"]}
    l1 = sum(abs(mix[c] - est_mix[c]) for c in CHANNELS)

    from sqlalchemy import select

    from ingest.db.schema import channel_labels, documents

    with engine.connect() as conn:
        rows = conn.execute(
            select(documents.c.account_id, channel_labels.c.channel, channel_labels.c.weight).join(
                channel_labels, channel_labels.c.document_id == documents.c.id
            )
        ).all()
    lab = pd.DataFrame(rows, columns=["account_id", "channel", "weight"])
    primary = lab.sort_values("weight", ascending=False).drop_duplicates("account_id")
    gold = dict(zip(answered["account_id"], reported, strict=True))
    hits = [
        c in gold.get(a, []) for a, c in zip(primary["account_id"], primary["channel"], strict=True)
    ]
    confusion: dict[str, dict[str, int]] = {}
    for a, c in zip(primary["account_id"], primary["channel"], strict=True):
        g = gold.get(a, ["?"])
        ref = c if c in g else g[0]
        confusion.setdefault(ref, {}).setdefault(c, 0)
        confusion[ref][c] += 1
    out = {
        "answers": m["n"],
        "answering_accounts_truth": len(answered),
        "dark_share": m["dark_share"],
        "dark_share_interval": [m["dark_share_low"], m["dark_share_high"]],
        "truth_dark_share": round(true_dark, 4),
        "dark_share_error_points": round(100 * (m["dark_share"] - true_dark), 2),
        "truth_inside_interval": m["dark_share_low"] <= true_dark <= m["dark_share_high"],
        "channel_mix_l1": round(l1, 4),
        "answer_accuracy": round(sum(hits) / len(hits), 4),
        "dark_share_corrected": m["dark_share_corrected"],
        "response_rate": m["response_rate"],
        "tracked_dark_share": m["tracked_dark_share"],
        "misattributed_share": m["misattributed_share"],
        "by_method": labeled["by_method"],
        "classify_texts_per_second": round(labeled["classified"] / seconds, 1),
        "confusion_errors": {
            r: {p: k for p, k in row.items() if p != r}
            for r, row in confusion.items()
            if any(p != r for p in row)
        },
    }
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
