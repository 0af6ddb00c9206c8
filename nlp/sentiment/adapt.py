"""Adapting the model to a customer's own language from weak labels in the store.

Weak labels: review stars (1-2 negative, 3 neutral, 4-5 positive), NPS scores of survey
comments (0-6 negative, 7-8 neutral, 9-10 positive) and CSAT scores of survey comments
(as stars). A deterministic 20% of the labeled texts (by text hash) is held out; the
head is refit on the rest with an L2 pull towards the current head (so the general
model's knowledge stays; strength chosen on an inner split), and a temperature is fitted.
Before/after metrics on the held-out part are reported.

The adapted model is saved as a new version under ``<data_dir>/sentiment/models/`` with
the current encoder adapter copied beside it (same encoder: no new export), and becomes
current only when it does at least as well as the current model on the held-out part.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine, select

from ingest.db.schema import documents, surveys
from ingest.errors import InputError
from ingest.settings import Settings
from nlp.sentiment.model import ADAPTER_CONFIG, ADAPTER_FILE, HEAD_FILE, Head, read_meta

MIN_LABELED = 30
HOLDOUT_BUCKETS = 20
PENALTIES = (0.003, 0.03, 0.3)


def stars_label(score: float) -> int:
    return 0 if score <= 2 else (1 if score < 4 else 2)


def nps_label(score: float) -> int:
    return 0 if score <= 6 else (1 if score <= 8 else 2)


def weak_labels(engine: Engine) -> pd.DataFrame:
    """(text_hash, text, label, origin) for every store text with a usable weak label."""
    rows: dict[str, tuple[str, int, str]] = {}
    with engine.connect() as conn:
        reviews = conn.execute(
            select(documents.c.text_hash, documents.c.text, documents.c.rating).where(
                documents.c.kind == "review", documents.c.rating.is_not(None)
            )
        )
        for h, text, rating in reviews:
            if 1 <= rating <= 5:
                rows.setdefault(h, (text, stars_label(rating), "review_stars"))
        answers = conn.execute(
            select(documents.c.text_hash, documents.c.text, surveys.c.survey_type, surveys.c.score)
            .join(surveys, surveys.c.document_id == documents.c.id)
            .where(documents.c.kind == "survey")
        )
        for h, text, kind, score in answers:
            if kind == "nps" and 0 <= score <= 10:
                rows.setdefault(h, (text, nps_label(score), "nps"))
            elif kind == "csat" and 1 <= score <= 5:
                rows.setdefault(h, (text, stars_label(score), "csat"))
    df = pd.DataFrame(
        [(h, t, lab, o) for h, (t, lab, o) in rows.items()],
        columns=["text_hash", "text", "label", "origin"],
    )
    return df[df["text"].str.strip() != ""].reset_index(drop=True)


def is_holdout(text_hash: str) -> bool:
    return int(text_hash[:8], 16) % 100 < HOLDOUT_BUCKETS


def refit_head(x: np.ndarray, y: np.ndarray, prior: Head, penalty: float) -> Head:
    """Multinomial logistic regression pulled towards ``prior`` (L-BFGS)."""
    from scipy.optimize import minimize

    w0 = np.concatenate([prior.weight.ravel(), prior.bias]).astype(np.float64)
    d = x.shape[1]
    onehot = np.eye(3)[y]

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        w, b = theta[: 3 * d].reshape(3, d), theta[3 * d :]
        z = x @ w.T + b
        z -= z.max(1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(1, keepdims=True)
        ce = -np.log(np.maximum(p[np.arange(len(y)), y], 1e-12)).mean()
        g = (p - onehot) / len(y)
        diff = theta - w0
        grad = np.concatenate([(g.T @ x).ravel(), g.sum(0)]) + penalty * diff
        return float(ce + 0.5 * penalty * diff @ diff), grad

    res = minimize(loss, w0, jac=True, method="L-BFGS-B", options={"maxiter": 300})
    theta = res.x
    return Head(
        theta[: 3 * d].reshape(3, d).astype(np.float32), theta[3 * d :].astype(np.float32), 1.0
    )


def _metrics(head: Head, x: np.ndarray, y: np.ndarray, texts: list[str]) -> dict[str, Any]:
    from nlp.evaluation import metrics_from_probs

    return metrics_from_probs(head.probabilities(x), texts, y, baseline=False)


def adapt_from_store(engine: Engine, settings: Settings) -> dict[str, Any]:
    """Refit the head on the store's weak labels; save (and maybe activate) a new version."""
    from nlp.sentiment import scorer_for
    from nlp.sentiment.build import write_meta
    from nlp.sentiment.calibration import fit_temperature
    from nlp.sentiment.registry import current_artifacts, model_version, sentiment_dir, set_current

    labeled = weak_labels(engine)
    if len(labeled) < MIN_LABELED or labeled["label"].nunique() < 3:
        raise InputError(
            f"need at least {MIN_LABELED} store texts with weak labels in all three classes "
            f"(review stars or NPS/CSAT scores with comments); found {len(labeled)}: "
            "ingest reviews or surveys first"
        )
    parent = current_artifacts(settings)
    scorer = scorer_for(parent, settings)
    x = scorer.embed_texts(labeled["text"].tolist()).astype(np.float64)
    y = labeled["label"].to_numpy()
    hold = labeled["text_hash"].map(is_holdout).to_numpy()
    if hold.sum() < 5 or (~hold).sum() < MIN_LABELED - 5:
        raise InputError("too few labeled store texts to hold some out; ingest more")
    xt, yt = x[~hold], y[~hold]
    inner = np.arange(len(yt)) % 5 == 0
    prior = Head(scorer.head.weight, scorer.head.bias, 1.0)

    def inner_nll(pen: float) -> float:
        h = refit_head(xt[~inner], yt[~inner], prior, pen)
        p = h.probabilities(xt[inner])
        return float(-np.log(np.maximum(p[np.arange(inner.sum()), yt[inner]], 1e-12)).mean())

    penalty = min(PENALTIES, key=inner_nll)
    inner_head = refit_head(xt[~inner], yt[~inner], prior, penalty)
    temperature = fit_temperature(
        inner_head.logits(xt[inner]), yt[inner], np.zeros(inner.sum(), bool)
    )
    fitted = refit_head(xt, yt, prior, penalty)
    adapted = Head(fitted.weight, fitted.bias, temperature)

    texts_hold = labeled["text"][hold].tolist()
    before = _metrics(scorer.head, x[hold], y[hold], texts_hold)
    after = _metrics(adapted, x[hold], y[hold], texts_hold)

    parent_version = model_version(parent)
    staging = sentiment_dir(settings) / "models" / "staging"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    for name in (ADAPTER_FILE, ADAPTER_CONFIG):
        if (parent / name).exists():
            shutil.copy2(parent / name, staging / name)
    adapted.save(staging / HEAD_FILE)
    meta = read_meta(parent)
    meta.update(
        name="minilm-lora-adapted",
        temperature=round(temperature, 4),
        parent_model_version=parent_version,
        adaptation={"penalty": penalty, "train": int((~hold).sum()), "held_out": int(hold.sum())},
        metrics={"store_held_out_before": before, "store_held_out_after": after},
    )
    if meta.get("base_model") and not Path(meta["base_model"]).is_absolute():
        meta["base_model"] = str((parent / meta["base_model"]).resolve())
    write_meta(staging, meta)
    version = model_version(staging)
    final = sentiment_dir(settings) / "models" / version
    shutil.rmtree(final, ignore_errors=True)
    staging.rename(final)
    activated = after["macro_f1"] >= before["macro_f1"]
    if activated:
        set_current(settings, final)
    return {
        "labeled": int(len(labeled)),
        "by_origin": {k: int(v) for k, v in labeled["origin"].value_counts().items()},
        "train": int((~hold).sum()),
        "held_out": int(hold.sum()),
        "before": before,
        "after": after,
        "parent_model_version": parent_version,
        "model_version": version,
        "activated": bool(activated),
        "path": str(final),
    }
