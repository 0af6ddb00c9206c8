"""Measuring a sentiment scorer on a labeled file, next to the VADER lexicon baseline.

Labels are read as negative/neutral/positive (also neg/neu/pos), ``-1/0/1``, or ``0/1``
(0 negative, 1 positive). A file whose labels use only two classes is scored on those
two: the model's prediction is the larger of those two classes' probabilities, and
VADER's is its compound score's class, a neutral call resolved by the compound's sign
(negative/positive) or to neutral (pairs with neutral).

Metrics: accuracy, macro-F1 over the file's classes, per-class precision/recall/F1/
support, and the expected calibration error (15 equal-width confidence bins) of the
model's probabilities renormalized over the file's classes.
"""

from __future__ import annotations

import csv
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ingest.errors import InputError

LABELS = ("negative", "neutral", "positive")
LABEL_ALIASES = {
    "negative": 0,
    "neg": 0,
    "-1": 0,
    "neutral": 1,
    "neu": 1,
    "positive": 2,
    "pos": 2,
}
VADER_THRESHOLD = 0.05  # VADER's documented compound cut-offs for three classes
MAX_ROWS = 1_000_000


def parse_labels(values: list[Any]) -> np.ndarray:
    """Label strings/numbers -> class indices 0 negative, 1 neutral, 2 positive."""
    raw = [str(v).strip().lower() for v in values]
    norm = []
    for r in raw:
        try:
            f = float(r)
            norm.append(str(int(f)) if f == int(f) else r)
        except ValueError:
            norm.append(r)
    distinct = set(norm)
    if distinct <= {"0", "1"}:  # UCI-style two-class labels
        return np.array([2 if v == "1" else 0 for v in norm])
    if distinct <= {"-1", "0", "1"}:
        return np.array([{"-1": 0, "0": 1, "1": 2}[v] for v in norm])
    unknown = sorted(distinct - set(LABEL_ALIASES))
    if unknown:
        raise InputError(
            f"unknown sentiment labels {unknown[:5]}: use negative/neutral/positive, "
            "neg/neu/pos, -1/0/1 or 0/1"
        )
    return np.array([LABEL_ALIASES[v] for v in norm])


def read_labeled(path: Path, text_col: str = "text", label_col: str = "label") -> pd.DataFrame:
    """A labeled CSV -> DataFrame(text, y); errors say what to fix."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, nrows=MAX_ROWS + 1)
    except (pd.errors.ParserError, UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"{path}: not a readable CSV ({exc})") from exc
    except pd.errors.EmptyDataError as exc:
        raise InputError(f"{path}: the file is empty") from exc
    for col in (text_col, label_col):
        if col not in df.columns:
            raise InputError(
                f"{path}: column '{col}' not found (columns: {', '.join(df.columns[:10])}); "
                "pass --text-col/--label-col"
            )
    if len(df) > MAX_ROWS:
        raise InputError(f"{path}: more than {MAX_ROWS} rows; split the file")
    df = df[df[label_col].str.strip() != ""]
    if df.empty:
        raise InputError(f"{path}: no labeled rows")
    return pd.DataFrame({"text": df[text_col].tolist(), "y": parse_labels(df[label_col].tolist())})


def restrict(probs: np.ndarray, classes: list[int]) -> np.ndarray:
    """Probabilities renormalized over ``classes`` (columns in that order)."""
    sub = probs[:, classes]
    return sub / np.maximum(sub.sum(axis=1, keepdims=True), 1e-12)


def expected_calibration_error(conf: np.ndarray, correct: np.ndarray, bins: int = 15) -> float:
    edges = np.linspace(0.0, 1.0, bins + 1)
    ece = 0.0
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        m = (conf > lo) & (conf <= hi)
        if m.any():
            ece += m.mean() * abs(correct[m].mean() - conf[m].mean())
    return float(ece)


def classification_metrics(y: np.ndarray, pred: np.ndarray, classes: list[int]) -> dict[str, Any]:
    """n, accuracy, macro_f1 (over ``classes``) and per_class {label: p, r, f1, support}."""
    per_class: dict[str, dict[str, float]] = {}
    f1s = []
    for c in classes:
        tp = int(((pred == c) & (y == c)).sum())
        fp = int(((pred == c) & (y != c)).sum())
        fn = int(((pred != c) & (y == c)).sum())
        p = tp / (tp + fp) if tp + fp else 0.0
        r = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        f1s.append(f1)
        per_class[LABELS[c]] = {
            "precision": round(p, 4),
            "recall": round(r, 4),
            "f1": round(f1, 4),
            "support": int((y == c).sum()),
        }
    return {
        "n": int(len(y)),
        "accuracy": round(float((pred == y).mean()) if len(y) else 0.0, 4),
        "macro_f1": round(float(np.mean(f1s)) if f1s else 0.0, 4),
        "per_class": per_class,
    }


def model_predictions(probs: np.ndarray, classes: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """(predicted class, confidence) using only ``classes``' probabilities."""
    sub = restrict(probs, classes)
    return np.asarray(classes)[sub.argmax(axis=1)], sub.max(axis=1)


def vader_predictions(texts: list[str], classes: list[int]) -> np.ndarray:
    """VADER's class per text, limited to ``classes`` (see the module docstring)."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()
    compound = np.array([analyzer.polarity_scores(t)["compound"] for t in texts])
    pred = np.where(compound >= VADER_THRESHOLD, 2, np.where(compound <= -VADER_THRESHOLD, 0, 1))
    allowed = set(classes)
    if 1 not in allowed:
        pred = np.where(pred == 1, np.where(compound >= 0, 2, 0), pred)
    elif 0 not in allowed:
        pred = np.where(pred == 0, 1, pred)
    elif 2 not in allowed:
        pred = np.where(pred == 2, 1, pred)
    return pred


def label_classes(y: np.ndarray) -> list[int]:
    """The classes a file is scored on: its own labels (a lone class is paired up)."""
    classes = sorted(set(int(v) for v in y))
    if len(classes) == 1:
        classes = [0, 2] if classes[0] != 1 else [0, 1, 2]
    return classes


def metrics_from_probs(
    probs: np.ndarray, texts: list[str], y: np.ndarray, *, baseline: bool = True
) -> dict[str, Any]:
    """Model metrics (+ ECE) for probabilities ``probs`` (n, 3), and VADER on the same rows."""
    classes = label_classes(y)
    pred, conf = model_predictions(probs, classes)
    result = classification_metrics(y, pred, classes)
    result["ece"] = round(expected_calibration_error(conf, pred == y), 4)
    result["labels"] = [LABELS[c] for c in classes]
    if baseline:
        result["baseline"] = {
            "name": "vader",
            **classification_metrics(y, vader_predictions(texts, classes), classes),
        }
    return result


def evaluate_scorer(scorer: Any, texts: list[str], y: np.ndarray) -> dict[str, Any]:
    """The contract's ``undertow eval sentiment`` object for ``scorer`` on (texts, y)."""
    t0 = time.perf_counter()
    scores = scorer.score_texts(texts)
    seconds = time.perf_counter() - t0
    probs = scores[["p_negative", "p_neutral", "p_positive"]].to_numpy()
    result = metrics_from_probs(probs, texts, y)
    result["model_version"] = scorer.model_version
    result["texts_per_second"] = round(len(texts) / seconds, 1) if seconds > 0 else 0.0
    return result


def evaluate_file(
    scorer: Any, path: Path, text_col: str = "text", label_col: str = "label"
) -> dict[str, Any]:
    df = read_labeled(path, text_col, label_col)
    return evaluate_scorer(scorer, df["text"].tolist(), df["y"].to_numpy())
