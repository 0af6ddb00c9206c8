"""The aspect tagger: keyword rules first, the embedding head for meaning, multi-label.

Decision per (text, aspect):
- a rule at or above ``rules.DECISIVE`` confidence tags alone            -> method "rules"
- a weak rule tags only when the head agrees (p >= head.corroborate)    -> "rules+embedding"
- no rule: the head tags when p >= head.threshold                        -> "embedding"
A decisive rule that the head also backs (p >= threshold) is "rules+embedding" too.
Confidence: the larger of the rule confidence and the head probability.

The head reads a text sentence by sentence (``unit="sentence"``, the default since
``aspects-v2``): a text's probability for an aspect is the maximum over its sentences, so
a long ticket is read whole and one sentence about security is enough. The head was
trained on mostly one-sentence texts, so sentences are also the input it knows best.
Sentences repeat across customer texts (greetings, sign-offs, support templates), so
each distinct sentence is encoded once per call and its probabilities kept in a bounded
cache for the tagger's lifetime: on the demo world's tickets that is 1 encoder input per
~7 tickets (see benchmarks/RESULTS.md, "Aspects"). ``unit="chunk"`` is the ``aspects-v1``
reading (consecutive sentences joined into chunks of up to 900 characters, i.e. a short
ticket encoded whole, no cache), kept as the reference the benchmark compares against.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np
import pandas as pd

from nlp.aspects.head import AspectHead
from nlp.aspects.rules import DECISIVE, rule_tags
from nlp.aspects.sentences import chunk_sentences, split_sentences

MODEL_VERSION = "aspects-v2"
CACHE_LIMIT = 200_000  # distinct sentences whose probabilities are kept (~10 MB)
COLUMNS = ["idx", "aspect", "confidence", "method"]


class TextEncoder(Protocol):
    def encode(self, texts: list[str]) -> np.ndarray: ...


class AspectTagger:
    """Tags texts with aspects. ``use_embeddings=False`` gives the rules alone (every
    rule hit tags, weak ones included: there is nothing to corroborate them).
    ``unit``: what the head reads, ``"sentence"`` (served) or ``"chunk"`` (aspects-v1)."""

    def __init__(
        self,
        head: AspectHead | None = None,
        encoder: TextEncoder | None = None,
        use_embeddings: bool = True,
        unit: str = "sentence",
    ) -> None:
        if unit not in ("sentence", "chunk"):
            raise ValueError(f"unit must be 'sentence' or 'chunk', got {unit!r}")
        self.head = head
        self.encoder = encoder
        self.use_embeddings = use_embeddings
        self.unit = unit
        self._cache: dict[str, np.ndarray] = {}

    # ---------------------------------------------------------------- head side
    def _ensure_model(self) -> tuple[AspectHead, TextEncoder]:
        if self.head is None:
            self.head = AspectHead.load()
        if self.encoder is None:
            from nlp.encoder import Encoder

            self.encoder = Encoder()
        return self.head, self.encoder

    def _pieces(self, text: str) -> list[str]:
        sentences = split_sentences(text or "")
        if self.unit == "chunk":
            return chunk_sentences(sentences)
        return chunk_sentences(sentences, max_chars=0)  # one per sentence, long ones cut

    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        """(n, n_aspects) head probabilities, max over each text's sentences (or chunks);
        0 for an empty text."""
        head, encoder = self._ensure_model()
        out = np.zeros((len(texts), len(head.aspects)), dtype=np.float32)
        owners: list[int] = []
        pieces: list[str] = []
        for i, text in enumerate(texts):
            for piece in self._pieces(text):
                owners.append(i)
                pieces.append(piece)
        if not pieces:
            return out
        if self.unit == "chunk":  # aspects-v1: every chunk encoded, nothing kept
            probs = head.predict_proba(encoder.encode(pieces))
        else:
            probs = self._sentence_probabilities(pieces, head, encoder)
        np.maximum.at(out, np.asarray(owners), probs)
        return out

    def _sentence_probabilities(
        self, pieces: list[str], head: AspectHead, encoder: TextEncoder
    ) -> np.ndarray:
        """Probabilities of each piece; only distinct pieces not seen before are encoded
        (one ``encode`` call)."""
        todo = [p for p in dict.fromkeys(pieces) if p not in self._cache]
        if todo:
            if len(self._cache) + len(todo) > CACHE_LIMIT:
                self._cache.clear()
            for piece, row in zip(todo, head.predict_proba(encoder.encode(todo)), strict=True):
                self._cache[piece] = row
        return np.stack([self._cache[p] for p in pieces])

    # ---------------------------------------------------------------- decision
    def tag(self, texts: Sequence[str]) -> pd.DataFrame:
        """DataFrame[idx, aspect, confidence, method], idx = position in ``texts``."""
        texts = ["" if t is None else str(t) for t in texts]
        rules = [rule_tags(t) for t in texts]
        rows: list[dict[str, Any]] = []
        if not self.use_embeddings:
            for i, tags in enumerate(rules):  # rules alone: every hit counts
                for aspect, (conf, _) in tags.items():
                    rows.append(_row(i, aspect, conf, "rules"))
            return _frame(rows)
        probs = self.probabilities(texts)
        head = self.head
        assert head is not None
        for i, tags in enumerate(rules):
            for j, aspect in enumerate(head.aspects):
                p = float(probs[i, j])
                rule = tags.get(aspect)
                if rule is not None:
                    conf = rule[0]
                    if conf >= DECISIVE:
                        method = "rules+embedding" if p >= head.threshold else "rules"
                        rows.append(_row(i, aspect, max(conf, p), method))
                    elif p >= head.corroborate:
                        rows.append(_row(i, aspect, max(conf, p), "rules+embedding"))
                elif p >= head.threshold and texts[i].strip():
                    rows.append(_row(i, aspect, p, "embedding"))
        return _frame(rows)


def _row(idx: int, aspect: str, confidence: float, method: str) -> dict[str, Any]:
    return {
        "idx": idx,
        "aspect": aspect,
        "confidence": round(float(confidence), 4),
        "method": method,
    }


def _frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    if not rows:
        return pd.DataFrame(
            {"idx": pd.Series(dtype="int64"), "aspect": pd.Series(dtype="object"),
             "confidence": pd.Series(dtype="float64"), "method": pd.Series(dtype="object")}
        )  # fmt: skip
    return pd.DataFrame(rows, columns=COLUMNS).sort_values(["idx", "aspect"], ignore_index=True)


_DEFAULT: AspectTagger | None = None


def default_tagger() -> AspectTagger:
    """The process-wide tagger (committed head + packaged encoder), built on first use."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = AspectTagger()
    return _DEFAULT


def tag_texts(texts: Sequence[str], *, tagger: AspectTagger | None = None) -> pd.DataFrame:
    """Aspects of each text: DataFrame[idx, aspect, confidence, method] (multi-label;
    a text about nothing in the taxonomy has no row)."""
    return (tagger or default_tagger()).tag(texts)
