"""Rules first, the embedding head only for what the rules cannot settle.

``classify_answers(texts)`` returns one row per (answer, channel):
``idx`` (position in ``texts``), ``channel``, ``weight`` (an answer's weights sum to 1),
``confidence`` (0-1) and ``method`` (the rule names, or ``head:<version>``).

Decisions:
- a strong rule verdict stands (several channels -> equal weights);
- weak cues only, or nothing at all: the head's probabilities, with each weakly cued
  channel's probability raised by ``HINT_BONUS`` before the argmax; the head names one
  channel with confidence = its blended probability;
- a head probability below ``ABSTAIN_BELOW`` is ``other`` (method ``head:abstain``);
- empty and "don't remember" answers are ``other`` with confidence 0.2-0.3.

Unique texts are encoded once, in batches; the encoder loads only when needed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from nlp.channels.rules import RuleResult, classify_rules

HINT_BONUS = 0.35
ABSTAIN_BELOW = 0.3
COLUMNS = ["idx", "channel", "weight", "confidence", "method"]


@lru_cache(maxsize=1)
def rules_version() -> str:
    """A short hash of the rule code and lexicon: changes whenever a rule does."""
    here = Path(__file__).parent
    h = hashlib.sha256()
    for name in ("lexicon.py", "rules.py", "classify.py"):
        h.update((here / name).read_bytes())
    return h.hexdigest()[:8]


def current_model_version(head: Any = None) -> str:
    """``channels-<rules hash>-<head version>``: the key of ``channel_labels`` rows."""
    from nlp.channels.head import load_head

    head = head or load_head()
    return f"channels-{rules_version()}-{head.version.removeprefix('channels-')}"[:64]


@lru_cache(maxsize=1)
def _default_encoder() -> Any:
    from nlp.encoder import Encoder

    return Encoder(max_length=64, batch_size=128)


def classify_answers(
    texts: Iterable[object], *, encoder: Any = None, head: Any = None
) -> pd.DataFrame:
    """Channels of each answer (module docstring). ``encoder``/``head`` default to the
    packaged MiniLM and the committed head."""
    texts = list(texts)
    verdicts: list[RuleResult] = [classify_rules(t) for t in texts]
    rows: list[tuple[int, str, float, float, str]] = []
    pending = [i for i, v in enumerate(verdicts) if not v.decided]
    head_rows = _head_verdicts(texts, verdicts, pending, encoder, head) if pending else {}
    for i, v in enumerate(verdicts):
        if v.decided:
            for channel, w in v.weights.items():
                rows.append((i, channel, w, v.confidence, v.method))
        else:
            rows.append((i, *head_rows[i]))
    return pd.DataFrame(rows, columns=COLUMNS)


def _head_verdicts(
    texts: list[object],
    verdicts: list[RuleResult],
    pending: list[int],
    encoder: Any,
    head: Any,
) -> dict[int, tuple[str, float, float, str]]:
    from nlp.channels.head import load_head

    head = head or load_head()
    encoder = encoder or _default_encoder()
    unique = sorted({verdicts[i].normalized or str(texts[i]) for i in pending})
    position = {t: k for k, t in enumerate(unique)}
    probs = head.predict_proba(np.asarray(encoder.encode(unique), dtype=np.float32))
    out: dict[int, tuple[str, float, float, str]] = {}
    for i in pending:
        v = verdicts[i]
        p = probs[position[v.normalized or str(texts[i])]].copy()
        for hint in v.hints:
            p[head.classes.index(hint)] += HINT_BONUS
        p = p / p.sum()
        k = int(np.argmax(p))
        confidence = float(p[k])
        if confidence < ABSTAIN_BELOW:
            out[i] = ("other", 1.0, round(confidence, 4), "head:abstain")
            continue
        method = f"head:{head.version}"
        if v.hints:
            method = f"{method}+{v.method}"
        out[i] = (head.classes[k], 1.0, round(confidence, 4), method[:64])
    return out


def primary_channels(labels: pd.DataFrame, n: int) -> list[str]:
    """Each answer's primary channel: the highest weight, ties to the first named."""
    out = ["other"] * n
    best = [-1.0] * n
    for idx, channel, weight in zip(
        labels["idx"], labels["channel"], labels["weight"], strict=True
    ):
        if weight > best[idx] + 1e-9:
            best[idx] = weight
            out[idx] = channel
    return out
