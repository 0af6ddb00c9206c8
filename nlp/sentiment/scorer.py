"""The sentiment scorer: preprocess -> _forward -> postprocess, as transformers pipelines do.

- ``preprocess`` tokenizes without cutting and splits every text into windows of at most
  ``max_length`` tokens (``[CLS] ... [SEP]``, consecutive windows overlap by ``overlap``
  tokens), so a long ticket is read to its end, never silently truncated.
- ``_forward`` sorts the windows by length, pads each batch only to its own longest row
  (dynamic padding + length bucketing) and runs the backend; it is the only step that
  touches torch or ONNX Runtime.
- ``postprocess`` averages the windows' pooled vectors per text, weighted by their token
  counts (for one window this is the text's mean pooling; for several it approximates the
  mean over all tokens), applies the calibrated head and returns plain floats.

Every result row carries ``model_version``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from nlp.sentiment.backends import Backend
from nlp.sentiment.model import Head

LABELS = ("negative", "neutral", "positive")
COLUMNS = ["p_negative", "p_neutral", "p_positive", "sentiment", "label", "n_chunks"]


@dataclass
class Prepared:
    """Windows of token ids ready for the encoder, and the text each belongs to."""

    windows: list[list[int]]
    owner: np.ndarray  # text index of each window
    weight: np.ndarray  # content tokens of each window
    n_texts: int


def window_starts(n_tokens: int, width: int, overlap: int) -> list[int]:
    """Start offsets of windows of ``width`` covering ``n_tokens`` (last one flush right)."""
    if n_tokens <= width:
        return [0]
    step = max(1, width - overlap)
    starts = list(range(0, n_tokens - width, step))
    starts.append(n_tokens - width)
    return starts


def pad_batch(rows: list[list[int]], pad_id: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(input_ids, attention_mask) padded to the batch's own longest row (dynamic padding)."""
    width = max(len(r) for r in rows)
    ids = np.full((len(rows), width), pad_id, dtype=np.int64)
    mask = np.zeros((len(rows), width), dtype=np.int64)
    for i, r in enumerate(rows):
        ids[i, : len(r)] = r
        mask[i, : len(r)] = 1
    return ids, mask


class SentimentScorer:
    """Scores texts into calibrated negative/neutral/positive probabilities."""

    def __init__(
        self,
        tokenizer: Any,
        backend: Backend,
        head: Head,
        model_version: str,
        *,
        max_length: int = 128,
        overlap: int = 16,
        batch_size: int = 32,
    ) -> None:
        if max_length < 8:
            raise ValueError(f"max_length must be >= 8, got {max_length}")
        self.tokenizer = tokenizer
        self.backend = backend
        self.head = head
        self.model_version = model_version
        self.max_length = max_length
        self.overlap = overlap
        self.batch_size = batch_size

    # ------------------------------------------------------------ pipeline steps
    def preprocess(self, texts: list[str]) -> Prepared:
        clean = ["" if t is None else str(t) for t in texts]
        ids = (
            self.tokenizer(clean, add_special_tokens=False, truncation=False, verbose=False)[
                "input_ids"
            ]
            if clean
            else []
        )
        cls_id, sep_id = self.tokenizer.cls_token_id, self.tokenizer.sep_token_id
        width = self.max_length - 2
        windows: list[list[int]] = []
        owner: list[int] = []
        weight: list[int] = []
        for i, row in enumerate(ids):
            for s in window_starts(len(row), width, self.overlap):
                part = list(row[s : s + width])
                windows.append([cls_id, *part, sep_id])
                owner.append(i)
                weight.append(max(1, len(part)))
        return Prepared(
            windows, np.asarray(owner, dtype=np.int64), np.asarray(weight, float), len(clean)
        )

    def _forward(self, prepared: Prepared) -> np.ndarray:
        """Pooled vector of every window, batched by length with dynamic padding."""
        n = len(prepared.windows)
        pad_id = self.tokenizer.pad_token_id or 0
        out: np.ndarray | None = None
        order = np.argsort([len(w) for w in prepared.windows], kind="stable")
        for start in range(0, n, self.batch_size):
            idx = order[start : start + self.batch_size]
            ids, mask = pad_batch([prepared.windows[i] for i in idx], pad_id)
            pooled = self.backend(ids, mask)
            if out is None:
                out = np.zeros((n, pooled.shape[1]), dtype=np.float32)
            out[idx] = pooled
        return out if out is not None else np.zeros((0, self.head.weight.shape[1]), np.float32)

    def pool(self, prepared: Prepared, window_vectors: np.ndarray) -> np.ndarray:
        """Token-weighted mean of each text's window vectors -> (n_texts, hidden)."""
        hidden = window_vectors.shape[1] if window_vectors.size else self.head.weight.shape[1]
        sums = np.zeros((prepared.n_texts, hidden), dtype=np.float64)
        totals = np.zeros(prepared.n_texts, dtype=np.float64)
        np.add.at(sums, prepared.owner, window_vectors * prepared.weight[:, None])
        np.add.at(totals, prepared.owner, prepared.weight)
        return (sums / np.maximum(totals, 1e-9)[:, None]).astype(np.float32)

    def postprocess(self, prepared: Prepared, window_vectors: np.ndarray) -> pd.DataFrame:
        probs = self.head.probabilities(self.pool(prepared, window_vectors)).astype(float)
        df = pd.DataFrame(probs, columns=["p_negative", "p_neutral", "p_positive"])
        df["sentiment"] = df["p_positive"] - df["p_negative"]
        df["label"] = [LABELS[i] for i in probs.argmax(axis=1)] if len(df) else []
        df["n_chunks"] = np.bincount(prepared.owner, minlength=prepared.n_texts)
        df["model_version"] = self.model_version
        return df

    # ------------------------------------------------------------ entry points
    def score_texts(self, texts: list[str]) -> pd.DataFrame:
        """One row per text, in order: p_negative, p_neutral, p_positive, sentiment, label,
        n_chunks, model_version."""
        prepared = self.preprocess(list(texts))
        return self.postprocess(prepared, self._forward(prepared))

    def embed_texts(self, texts: list[str]) -> np.ndarray:
        """The pooled vectors the head reads (for refitting the head on new labels)."""
        prepared = self.preprocess(list(texts))
        return self.pool(prepared, self._forward(prepared))

    def with_head(self, head: Head, model_version: str) -> SentimentScorer:
        """The same encoder with another head (adaptation, calibration)."""
        return SentimentScorer(
            self.tokenizer,
            self.backend,
            head,
            model_version,
            max_length=self.max_length,
            overlap=self.overlap,
            batch_size=self.batch_size,
        )
