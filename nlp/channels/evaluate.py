"""Accuracy of the channel classifier on a labeled file (``undertow eval channels``).

A labeled file has columns ``answer`` and ``channels`` (pipe-separated gold channels)
and optionally ``split`` (dev/test). Definitions, for answers that may name several
channels:

- ``accuracy`` (the headline): the predicted *primary* channel (highest weight) is one
  of the gold channels. For single-channel answers this is plain accuracy.
- ``exact_set_accuracy``: the predicted channel set equals the gold set.
- ``jaccard``: mean |pred & gold| / |pred | gold|.
- ``per_channel``: precision / recall / F1 / support over primary predictions, where
  an answer's reference is the gold channel that matched the prediction, else its first
  gold channel.
- ``confusion``: reference channel -> predicted primary channel -> count.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pandas as pd

from ingest.errors import InputError
from nlp.channels.classify import classify_answers, primary_channels
from nlp.channels.taxonomy import CHANNELS

MAX_ROWS = 200_000


def read_labeled(path: Path, split: str | None = None) -> pd.DataFrame:
    """The labeled rows (``answer``, ``channels``), optionally one split only."""
    if not Path(path).exists():
        raise InputError(f"{path}: no such file (give a CSV with columns answer, channels)")
    df = pd.read_csv(path, keep_default_na=False, dtype=str, nrows=MAX_ROWS + 1)
    for col in ("answer", "channels"):
        if col not in df.columns:
            raise InputError(
                f"{path}: required column '{col}' is missing (columns: answer, channels[, split])"
            )
    if len(df) > MAX_ROWS:
        raise InputError(f"{path}: more than {MAX_ROWS} rows; split the file")
    if split and split != "all":
        if "split" not in df.columns:
            raise InputError(f"{path}: --split {split} given but the file has no 'split' column")
        df = df[df["split"] == split]
    unknown = sorted({c for v in df["channels"] for c in v.split("|") if c} - set(CHANNELS))
    if unknown:
        raise InputError(
            f"{path}: unknown channel labels {unknown}; use the taxonomy {list(CHANNELS)}"
        )
    return df.reset_index(drop=True)


def evaluate(df: pd.DataFrame, **classify_kwargs: Any) -> dict[str, Any]:
    """The figures of the module docstring for labeled rows ``df``."""
    texts = df["answer"].tolist()
    gold = [[c for c in v.split("|") if c] or ["other"] for v in df["channels"]]
    start = time.perf_counter()
    labels = classify_answers(texts, **classify_kwargs)
    seconds = time.perf_counter() - start
    primary = primary_channels(labels, len(texts))
    pred_sets: dict[int, set[str]] = defaultdict(set)
    for idx, channel in zip(labels["idx"], labels["channel"], strict=True):
        pred_sets[int(idx)].add(channel)
    correct = [p in g for p, g in zip(primary, gold, strict=True)]
    exact = [pred_sets[i] == set(g) for i, g in enumerate(gold)]
    jac = [len(pred_sets[i] & set(g)) / len(pred_sets[i] | set(g)) for i, g in enumerate(gold)]
    reference = [p if p in g else g[0] for p, g in zip(primary, gold, strict=True)]
    confusion: dict[str, Counter[str]] = defaultdict(Counter)
    for r, p in zip(reference, primary, strict=True):
        confusion[r][p] += 1
    per_channel = {}
    for c in CHANNELS:
        tp = confusion[c][c]
        support = sum(confusion[c].values())
        predicted = sum(confusion[r][c] for r in confusion)
        precision = tp / predicted if predicted else 0.0
        recall = tp / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_channel[c] = {
            "precision": round(precision, 4),
            "recall": round(recall, 4),
            "f1": round(f1, 4),
            "support": support,
        }
    methods = Counter(
        m.split(":")[0] if not m.startswith("head:abstain") else "head:abstain"
        for m in labels.drop_duplicates("idx")["method"]
    )
    errors = [
        {"answer": t, "gold": "|".join(g), "predicted": p}
        for t, g, p, ok in zip(texts, gold, primary, correct, strict=True)
        if not ok
    ]
    n = len(texts)
    return {
        "n": n,
        "accuracy": round(sum(correct) / n, 4) if n else None,
        "exact_set_accuracy": round(sum(exact) / n, 4) if n else None,
        "jaccard": round(sum(jac) / n, 4) if n else None,
        "per_channel": per_channel,
        "confusion": {r: dict(confusion[r]) for r in CHANNELS if confusion[r]},
        "decided_by": dict(methods),
        "errors": errors,
        "texts_per_second": round(n / seconds, 1) if seconds > 0 else None,
    }
