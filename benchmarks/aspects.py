"""Aspect tagging speed on a demo world's texts: aspects-v2 (sentences, deduplicated) next to
aspects-v1 (whole short texts through the fp32 encoder) and the rules alone, same run.

The script builds (or reads, ``--world DIR``) a demo world, ingests accounts, reviews,
tickets and surveys into a fresh SQLite store in a temporary folder, scores whole-text
sentiment with the product scorer (``nlp.scoring.score_store``, untimed here: it belongs to
``undertow score``), then times on the same texts:

- ``v1``: ``AspectTagger(unit="chunk")`` + per-aspect sentence sentiment without the
  run-wide sentence cache, in pages of 512 (what ``tag_store`` did before), on a sample
  of ``--sample`` texts (the v1 path is too slow to run on all of them in a benchmark);
- ``v2``: the served tagger (fresh, empty cache) + sentence sentiment with the cache, on
  the same sample;
- ``rules``: the keyword rules alone (no encoder, whole-text sentiment only);
- ``tag_store``: the product call over the whole store (fresh tagger), its own
  ``texts_per_second`` (tagging + sentiment, database excluded) and the wall time.

Models are loaded before timing. Quality: micro/macro F1 of v1 and v2 on the labeled test
split (``nlp/aspects/data/labeled.csv``), and the agreement of v2's tags with v1's on the
sample (v1 as reference). The load average is printed: the machine is shared.

    UNDERTOW_DATA_DIR=.undertow .venv/bin/python benchmarks/aspects.py [--world DIR]
        [--accounts 400] [--seed 7] [--sample 1000] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

# benchmarks/ingest.py would shadow the ``ingest`` package: drop this folder from the path
if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)

KINDS = ("accounts", "reviews", "tickets", "surveys")
V1_PAGE = 512


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.2f} (1 min) / {five:.2f} (5 min)"


def _store_texts(engine: Any, s_version: str | None) -> tuple[list[str], list[float | None]]:
    """The texts tag_store would tag, in its order (distinct hash), with their sentiment."""
    from sqlalchemy import func, select

    from ingest.db.schema import documents
    from nlp.aspects.store import ASPECT_KINDS, _text_sentiments

    q = (
        select(documents.c.text_hash, func.min(documents.c.text))
        .where(documents.c.kind.in_(ASPECT_KINDS))
        .group_by(documents.c.text_hash)
        .order_by(documents.c.text_hash)
    )
    with engine.connect() as conn:
        pairs = [(h, t) for h, t in conn.execute(q)]
    whole = _text_sentiments(engine, [h for h, _ in pairs], s_version)
    return [t for _, t in pairs], [whole.get(h) for h, _ in pairs]


def _timed(fn: Any) -> tuple[Any, float]:
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def _run_path(tagger: Any, texts: list[str], whole: list[Any], score: Any, page: int, cache: Any):
    from nlp.aspects.attribution import aspect_sentiments

    tags_all = []
    for start in range(0, len(texts), page):
        part = texts[start : start + page]
        tags = tagger.tag(part)
        aspect_sentiments(part, tags, whole[start : start + page], score, cache)
        tags["idx"] += start
        tags_all.append(tags)
    import pandas as pd

    return pd.concat(tags_all, ignore_index=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--world", type=Path, default=None, help="demo files already written")
    parser.add_argument("--accounts", type=int, default=400)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--sample", type=int, default=1000, help="texts for the v1 comparison")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    import torch

    from ingest.db.engine import open_store
    from ingest.pipeline import ingest_paths
    from ingest.settings import Settings
    from nlp.aspects.evaluation import evaluate, multilabel_scores, predicted_sets
    from nlp.aspects.head import AspectHead
    from nlp.aspects.store import tag_store
    from nlp.aspects.tagger import AspectTagger
    from nlp.encoder import Encoder
    from nlp.scoring import score_store
    from nlp.sentiment import load_scorer
    from nlp.versions import sentiment_version

    out: dict[str, Any] = {"load_before": _load(), "torch_threads": torch.get_num_threads()}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        base = Settings.from_env()
        settings = base.model_copy(update={"database_url": f"sqlite:///{folder / 'store.db'}"})
        world = args.world
        if world is None:
            from ingest.demo import build_world, write_world

            world = folder / "world"
            write_world(build_world(accounts=args.accounts, seed=args.seed), world)
        names = {k: world / f"{k}.csv" for k in KINDS}
        engine = open_store(settings)
        for kind in KINDS:
            ingest_paths(engine, kind, [names[kind]], settings=settings)
        scored = score_store(engine, settings)
        out["sentiment_score_store"] = {
            k: scored[k] for k in ("scored", "texts_per_second") if k in scored
        }
        s_version = sentiment_version(engine, settings)
        texts, whole = _store_texts(engine, s_version)
        out["texts_in_store"] = len(texts)
        sample, sample_whole = texts[: args.sample], whole[: args.sample]

        # models loaded outside the timed parts, shared by every path
        head, encoder = AspectHead.load(), Encoder()
        encoder.encode(["warm up"])
        score = load_scorer(settings).score_texts
        score(["warm up"])

        v1 = AspectTagger(head, encoder, unit="chunk")
        v1_tags, v1_s = _timed(lambda: _run_path(v1, sample, sample_whole, score, V1_PAGE, None))
        v2 = AspectTagger(head, encoder)
        v2_tags, v2_s = _timed(lambda: _run_path(v2, sample, sample_whole, score, 1024, {}))
        rules = AspectTagger(use_embeddings=False)
        _, rules_s = _timed(lambda: _run_path(rules, sample, sample_whole, None, 1024, None))
        n = len(sample)
        ref = predicted_sets(v1_tags, n)
        agree = multilabel_scores(ref, predicted_sets(v2_tags, n))
        out["sample"] = {
            "texts": n,
            "v1_texts_per_second": round(n / v1_s, 1),
            "v2_texts_per_second": round(n / v2_s, 1),
            "rules_texts_per_second": round(n / rules_s, 1),
            "v2_over_v1": round(v1_s / v2_s, 2),
            "v2_vs_v1_micro_f1": agree["micro_f1"],
            "v2_vs_v1_exact_match": agree["exact_match"],
            "v1_tags": len(v1_tags),
            "v2_tags": len(v2_tags),
        }
        fresh = AspectTagger(head, encoder)
        store, wall = _timed(
            lambda: tag_store(engine, settings, tagger=fresh, score_sentences=score)
        )
        out["tag_store"] = {
            "tagged": store["tagged"],
            "texts_per_second": store["texts_per_second"],
            "wall_texts_per_second": round(store["tagged"] / wall, 1),
            "v2_over_v1_sample": round(
                store["texts_per_second"] / out["sample"]["v1_texts_per_second"], 2
            ),
        }
        engine.dispose()

    quality = {}
    for name, tagger in (
        ("v1", AspectTagger(head, encoder, unit="chunk")),
        ("v2", AspectTagger(head, encoder)),
    ):
        r = evaluate(tagger=tagger)
        quality[name] = {"micro_f1": r["micro_f1"], "macro_f1": r["macro_f1"], "n": r["n"]}
    quality["rules"] = {"micro_f1": r["rules"]["micro_f1"], "macro_f1": r["rules"]["macro_f1"]}
    out["test_split"] = quality
    out["load_after"] = _load()
    if args.json:
        print(json.dumps(out))
        return
    s, t = out["sample"], out["tag_store"]
    print(
        f"load average before {out['load_before']}, after {out['load_after']}; torch threads {out['torch_threads']}"
    )
    print(
        f"store: {out['texts_in_store']} distinct texts; sentiment score_store {out['sentiment_score_store']}"
    )
    print(f"sample of {s['texts']} texts (texts/s, tagging + per-aspect sentiment):")
    print(f"  v1 (chunks, fp32 encoder, no cache)  {s['v1_texts_per_second']:>8.1f}")
    print(
        f"  v2 (sentences, deduplicated, cached) {s['v2_texts_per_second']:>8.1f}   x{s['v2_over_v1']}"
    )
    print(f"  rules alone                          {s['rules_texts_per_second']:>8.1f}")
    print(
        f"  v2 tags vs v1 tags: micro-F1 {s['v2_vs_v1_micro_f1']:.3f}, exact {s['v2_vs_v1_exact_match']:.3f}"
        f" ({s['v1_tags']} -> {s['v2_tags']} tags)"
    )
    print(
        f"tag_store over the whole store: {t['tagged']} texts, {t['texts_per_second']} texts/s "
        f"(wall incl. database {t['wall_texts_per_second']}), x{t['v2_over_v1_sample']} vs v1"
    )
    for name, q in quality.items():
        print(f"test split {name:<6} micro-F1 {q['micro_f1']:.4f}  macro-F1 {q['macro_f1']:.4f}")


if __name__ == "__main__":
    main()
