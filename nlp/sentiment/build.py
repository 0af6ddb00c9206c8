"""Rebuild the committed model end to end (``undertow train sentiment``).

train (LoRA + head, ``train.py``) -> export and quantize the served int8 encoder
(``export.py``) -> fit the temperature on the validation split *through the int8
encoder* (``calibration.py``) -> measure on the test split, per data set, next to VADER
-> write ``meta.json`` (temperature, serving variant, split, metrics). MODEL_CARD.md
quotes those metrics.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ingest.settings import Settings
from nlp.sentiment.data import NEUTRAL_BAND, TEST_BUCKETS, VALIDATION_BUCKETS, load_corpus
from nlp.sentiment.model import META_FILE, read_meta
from nlp.sentiment.registry import ARTIFACTS_DIR

SERVED_VARIANT = "onnx-int8"
TEST_SETS = {
    "uci": lambda df: df["source"].str.startswith("uci"),
    "uci_amazon": lambda df: df["source"] == "uci_amazon",
    "uci_yelp": lambda df: df["source"] == "uci_yelp",
    "uci_imdb": lambda df: df["source"] == "uci_imdb",
    "vader_tweets": lambda df: df["source"] == "vader_tweets",
    "vader_amazon": lambda df: df["source"] == "vader_amazon",
    "vader_movie": lambda df: df["source"] == "vader_movie",
    "vader_nyt": lambda df: df["source"] == "vader_nyt",
    "service_seed": lambda df: df["source"] == "service_seed",
}


def write_meta(artifacts: Path, meta: dict[str, Any]) -> None:
    (artifacts / META_FILE).write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")


def scores_of(scorer: Any, texts: list[str]) -> np.ndarray:
    df = scorer.score_texts(texts)
    return df[["p_negative", "p_neutral", "p_positive"]].to_numpy()


def measure(scorer: Any, test: pd.DataFrame) -> dict[str, Any]:
    """Metrics per test set (two-class on UCI, three-class elsewhere) with VADER beside."""
    from nlp.evaluation import metrics_from_probs

    t0 = time.perf_counter()
    probs = scores_of(scorer, test["text"].tolist())
    tps = len(test) / (time.perf_counter() - t0)
    out: dict[str, Any] = {"texts_per_second": round(tps, 1)}
    for name, select in TEST_SETS.items():
        mask = select(test).to_numpy()
        if mask.any():
            sub = test[mask]
            out[name] = metrics_from_probs(
                probs[mask], sub["text"].tolist(), sub["label"].to_numpy()
            )
    return out


def calibrate(artifacts: Path, settings: Settings, validation: pd.DataFrame) -> dict[str, float]:
    """Fit the temperature through the served encoder; writes it into meta.json."""
    from nlp.evaluation import expected_calibration_error
    from nlp.sentiment import scorer_for
    from nlp.sentiment.calibration import fit_temperature, nll

    meta = read_meta(artifacts)
    meta["temperature"] = 1.0
    write_meta(artifacts, meta)
    scorer = scorer_for(artifacts, settings)
    logits = scorer.head.logits(scorer.embed_texts(validation["text"].tolist()))
    labels = validation["label"].to_numpy()
    two = (validation["n_classes"] == 2).to_numpy()
    t = fit_temperature(logits, labels, two)

    def ece(temp: float) -> float:
        z = logits / temp
        z = np.where(two[:, None] & (np.arange(3) == 1)[None, :], -1e9, z)
        p = np.exp(z - z.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        return expected_calibration_error(p.max(1), p.argmax(1) == labels)

    meta["temperature"] = round(t, 4)
    write_meta(artifacts, meta)
    return {
        "temperature": round(t, 4),
        "validation_nll_before": round(nll(logits, labels, two, 1.0), 4),
        "validation_nll_after": round(nll(logits, labels, two, t), 4),
        "validation_ece_before": round(ece(1.0), 4),
        "validation_ece_after": round(ece(t), 4),
    }


def build_model(
    settings: Settings,
    out_dir: Path = ARTIFACTS_DIR,
    *,
    data_dir: Path | None = None,
    epochs: int = 2,
    threads: int | None = None,
    log: Callable[[str], None] = print,
    skip_training: bool = False,
) -> dict[str, Any]:
    """Train, calibrate on the served variant and measure; returns the metrics written."""
    from nlp.sentiment import scorer_for
    from nlp.sentiment.train import MAX_LENGTH, train_lora

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    corpus = load_corpus(data_dir)
    training: dict[str, Any] = read_meta(out_dir).get("training", {})
    if not skip_training:
        t0 = time.time()
        training = train_lora(corpus, out_dir, epochs=epochs, threads=threads, log=log)
        training["seconds"] = round(time.time() - t0, 1)
    write_meta(
        out_dir,
        {
            "name": "minilm-lora",
            "serving": SERVED_VARIANT,
            "max_length": MAX_LENGTH,
            "labels": ["negative", "neutral", "positive"],
            "base_model": None,
            "training": training,
        },
    )
    calibration = calibrate(out_dir, settings, corpus[corpus["split"] == "validation"])
    log(f"calibration {calibration}")
    metrics = measure(scorer_for(out_dir, settings), corpus[corpus["split"] == "test"])
    meta = read_meta(out_dir)
    meta["calibration"] = calibration
    meta["metrics"] = metrics
    meta["split"] = (
        f"sha256(source, group) % 100: < {TEST_BUCKETS} test, < {TEST_BUCKETS + VALIDATION_BUCKETS}"
        " validation, else train; group = VADER review/article id, else the text"
    )
    meta["neutral_band"] = f"|VADER mean valence| < {NEUTRAL_BAND}"
    meta["rows"] = {
        split: int(n) for split, n in corpus["split"].value_counts().sort_index().items()
    }
    write_meta(out_dir, meta)
    return meta
