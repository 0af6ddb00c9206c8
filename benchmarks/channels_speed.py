"""Channel classifier throughput: rules first (the shipped path) vs the encoder on every
answer (the reference), on the same answers in the same run.

Answers: the labeled set's answers, each repeated with a random typo / case change until
``--n`` answers (mostly unique texts). Encoder load is excluded from both timings.

    .venv/bin/python benchmarks/channels_speed.py [--n 4000]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

# the repository root first: a benchmarks/ script named like a package must not shadow it
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _vary(text: str, rng: random.Random) -> str:
    words = text.split()
    if words and rng.random() < 0.5:
        i = rng.randrange(len(words))
        w = words[i]
        if len(w) > 4:
            k = rng.randrange(1, len(w) - 2)
            words[i] = w[:k] + w[k + 1] + w[k] + w[k + 2 :]
    out = " ".join(words)
    return out.upper() if rng.random() < 0.1 else out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=4000)
    args = ap.parse_args()

    from nlp.channels.classify import _default_encoder, classify_answers
    from nlp.channels.head import LABELED_PATH, load_head
    from nlp.channels.rules import _correct_token

    base = pd.read_csv(LABELED_PATH, keep_default_na=False, dtype=str)["answer"].tolist()
    rng = random.Random(0)
    texts = [_vary(base[i % len(base)], rng) for i in range(args.n)]
    encoder, head = _default_encoder(), load_head()
    encoder.encode(["warm up"])
    _correct_token.cache_clear()

    t0 = time.perf_counter()
    labels = classify_answers(texts, encoder=encoder, head=head)
    shipped = time.perf_counter() - t0
    by_head = labels.drop_duplicates("idx")["method"].str.startswith("head").sum()

    t0 = time.perf_counter()
    head.predict_proba(np.asarray(encoder.encode(texts), dtype=np.float32))
    reference = time.perf_counter() - t0

    print(f"answers: {len(texts)} ({len(set(texts))} unique), sent to the head: {by_head}")
    print(f"rules first (shipped): {len(texts) / shipped:,.0f} answers/s")
    print(f"encoder on every answer (reference): {len(texts) / reference:,.0f} answers/s")
    print(f"speed-up: {reference / shipped:.1f}x")


if __name__ == "__main__":
    main()
