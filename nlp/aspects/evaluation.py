"""Measure the tagger on a labeled file: micro/macro F1 and per-aspect precision/recall.

The labeled sample (``nlp/aspects/data/labeled.csv``) has columns ``text``, ``aspects``
(pipe-separated, empty = none of the taxonomy) and ``split`` (dev | test). The rules and
the head were built from ``dev``; figures are reported on ``test``. Any CSV with a text
and an aspects column can be measured the same way (all of its rows when it has no
``split`` column).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from ingest.errors import InputError
from nlp.aspects.taxonomy import ASPECTS

LABELED_PATH = Path(__file__).resolve().parent / "data" / "labeled.csv"
MAX_EVAL_ROWS = 100_000


def load_labeled(
    path: Path | str | None = None,
    split: str | None = "test",
    text_col: str = "text",
    label_col: str = "aspects",
) -> pd.DataFrame:
    """Rows of a labeled CSV as DataFrame[text, labels (set of aspects)]."""
    path = Path(path) if path is not None else LABELED_PATH
    if not path.is_file():
        raise InputError(f"{path}: no such file (pass a CSV with '{text_col}' and '{label_col}')")
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, nrows=MAX_EVAL_ROWS + 1)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise InputError(f"{path}: not a readable CSV ({exc})") from exc
    if len(frame) > MAX_EVAL_ROWS:
        raise InputError(f"{path}: more than {MAX_EVAL_ROWS} rows; evaluate a sample")
    for col in (text_col, label_col):
        if col not in frame.columns:
            raise InputError(f"{path}: column '{col}' is missing (have {list(frame.columns)})")
    if split is not None and "split" in frame.columns:
        frame = frame[frame["split"] == split]
    labels = [parse_labels(v) for v in frame[label_col]]
    unknown = sorted({a for s in labels for a in s} - set(ASPECTS))
    if unknown:
        raise InputError(f"{path}: unknown aspects {unknown}; the taxonomy is {list(ASPECTS)}")
    if frame.empty:
        raise InputError(f"{path}: no rows to evaluate")
    return pd.DataFrame({"text": list(frame[text_col]), "labels": labels})


def parse_labels(value: str) -> set[str]:
    """'pricing|billing' (or ';' / ',' separated) -> {'pricing', 'billing'}."""
    for sep in (";", ","):
        value = value.replace(sep, "|")
    return {v.strip().lower() for v in value.split("|") if v.strip()}


def predicted_sets(tags: pd.DataFrame, n: int) -> list[set[str]]:
    """DataFrame[idx, aspect, ...] -> one set of aspects per text."""
    sets: list[set[str]] = [set() for _ in range(n)]
    for idx, aspect in zip(tags["idx"], tags["aspect"], strict=True):
        sets[int(idx)].add(str(aspect))
    return sets


def multilabel_scores(
    truth: Sequence[set[str]], predicted: Sequence[set[str]], aspects: Sequence[str] = ASPECTS
) -> dict[str, Any]:
    """Micro and macro F1 over ``aspects`` plus per-aspect precision/recall/F1/support.
    Macro averages over aspects with support or predictions (an aspect absent from
    both would count as a free 0 otherwise)."""
    per: dict[str, dict[str, float]] = {}
    tp_all = fp_all = fn_all = 0
    for aspect in aspects:
        tp = sum(1 for t, p in zip(truth, predicted, strict=True) if aspect in t and aspect in p)
        fp = sum(
            1 for t, p in zip(truth, predicted, strict=True) if aspect not in t and aspect in p
        )
        fn = sum(
            1 for t, p in zip(truth, predicted, strict=True) if aspect in t and aspect not in p
        )
        tp_all, fp_all, fn_all = tp_all + tp, fp_all + fp, fn_all + fn
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per[aspect] = {
            "precision": round(precision, 4),
            "recall": round(recall, 4),
            "f1": round(f1, 4),
            "support": tp + fn,
            "predicted": tp + fp,
        }
    micro_p = tp_all / (tp_all + fp_all) if tp_all + fp_all else 0.0
    micro_r = tp_all / (tp_all + fn_all) if tp_all + fn_all else 0.0
    micro_f1 = 2 * micro_p * micro_r / (micro_p + micro_r) if micro_p + micro_r else 0.0
    seen = [a for a in aspects if per[a]["support"] or per[a]["predicted"]]
    macro_f1 = sum(per[a]["f1"] for a in seen) / len(seen) if seen else 0.0
    exact = sum(1 for t, p in zip(truth, predicted, strict=True) if t == p)
    return {
        "n": len(truth),
        "micro_precision": round(micro_p, 4),
        "micro_recall": round(micro_r, 4),
        "micro_f1": round(micro_f1, 4),
        "macro_f1": round(macro_f1, 4),
        "exact_match": round(exact / len(truth), 4) if truth else 0.0,
        "per_aspect": per,
    }


def evaluate(
    path: Path | str | None = None,
    *,
    tagger: Any = None,
    split: str | None = "test",
    text_col: str = "text",
    label_col: str = "aspects",
) -> dict[str, Any]:
    """The tagger (rules + embedding head) next to the rules alone on the same rows."""
    from nlp.aspects.tagger import MODEL_VERSION, AspectTagger, default_tagger

    data = load_labeled(path, split=split, text_col=text_col, label_col=label_col)
    texts = list(data["text"])
    truth = list(data["labels"])
    tagger = tagger or default_tagger()
    tagger.probabilities(texts[:1])  # load the model outside the timed part
    start = time.perf_counter()
    tags = tagger.tag(texts)
    seconds = time.perf_counter() - start
    result = multilabel_scores(truth, predicted_sets(tags, len(texts)))
    rules = AspectTagger(use_embeddings=False).tag(texts)
    result["rules"] = multilabel_scores(truth, predicted_sets(rules, len(texts)))
    result["methods"] = {str(k): int(v) for k, v in tags["method"].value_counts().items()}
    result["model_version"] = MODEL_VERSION
    result["split"] = split if split is not None else "all"
    result["source"] = str(Path(path) if path is not None else LABELED_PATH)
    result["texts_per_second"] = round(len(texts) / seconds, 1) if seconds > 0 else None
    return result
