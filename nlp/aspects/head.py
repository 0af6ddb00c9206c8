"""The embedding head: one logistic regression per aspect on MiniLM sentence embeddings.

Weights are a plain JSON file (10 x 384 coefficients, ~80 kB) committed next to this
module and rebuilt by ``undertow train aspects`` (``nlp.aspects.training``). The head
reads meaning where the rules see no keyword ("we couldn't log in all morning" is about
reliability) and corroborates weak rule hits.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ingest.errors import UndertowError

WEIGHTS_PATH = Path(__file__).resolve().parent / "weights" / "head.json"


class HeadNotFoundError(UndertowError):
    """The committed head weights are missing; rebuild them with `undertow train aspects`."""


@dataclass
class AspectHead:
    """P(aspect | text embedding) for each aspect, independently (multi-label)."""

    aspects: tuple[str, ...]
    coef: np.ndarray  # (n_aspects, dim)
    intercept: np.ndarray  # (n_aspects,)
    threshold: float = 0.5  # tag when p >= threshold (no rule needed)
    corroborate: float = 0.2  # a weak rule hit is kept when p >= corroborate
    card: dict[str, Any] = field(default_factory=dict)

    def predict_proba(self, embeddings: np.ndarray) -> np.ndarray:
        """(n, n_aspects) probabilities for (n, dim) embeddings."""
        if embeddings.shape[0] == 0:
            return np.zeros((0, len(self.aspects)), dtype=np.float32)
        logits = embeddings @ self.coef.T + self.intercept
        return (1.0 / (1.0 + np.exp(-logits))).astype(np.float32)

    def save(self, path: Path = WEIGHTS_PATH) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "aspects": list(self.aspects),
            "threshold": self.threshold,
            "corroborate": self.corroborate,
            "card": self.card,
            "intercept": [round(float(x), 6) for x in self.intercept],
            "coef": [[round(float(x), 6) for x in row] for row in self.coef],
        }
        path.write_text(json.dumps(payload, separators=(",", ":")) + "\n", encoding="utf-8")
        return path

    @classmethod
    def load(cls, path: Path = WEIGHTS_PATH) -> AspectHead:
        if not path.exists():
            raise HeadNotFoundError(
                f"aspect head weights not found at {path}: run `undertow train aspects`"
            )
        payload = json.loads(path.read_text(encoding="utf-8"))
        return cls(
            aspects=tuple(payload["aspects"]),
            coef=np.asarray(payload["coef"], dtype=np.float32),
            intercept=np.asarray(payload["intercept"], dtype=np.float32),
            threshold=float(payload["threshold"]),
            corroborate=float(payload["corroborate"]),
            card=payload.get("card", {}),
        )
