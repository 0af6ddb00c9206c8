"""Temperature scaling of the head's logits, fitted on the variant that is served.

One scalar T divides the logits; it is chosen to minimize the negative log-likelihood on
the validation split, computed from the int8 ONNX encoder's pooled vectors (quantization
moves the vectors, so a temperature fitted on fp32 would be off). Rows with two-class
labels (UCI) use the probabilities renormalized over negative/positive.
"""

from __future__ import annotations

import numpy as np


def _log_softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


def nll(logits: np.ndarray, labels: np.ndarray, two_class: np.ndarray, t: float) -> float:
    z = logits / t
    z = np.where(two_class[:, None] & (np.arange(3) == 1)[None, :], -1e9, z)
    return float(-_log_softmax(z)[np.arange(len(labels)), labels].mean())


def fit_temperature(logits: np.ndarray, labels: np.ndarray, two_class: np.ndarray) -> float:
    """The T in [0.05, 20] minimizing validation NLL (bounded scalar search on log T)."""
    from scipy.optimize import minimize_scalar

    res = minimize_scalar(
        lambda log_t: nll(logits, labels, two_class, float(np.exp(log_t))),
        bounds=(np.log(0.05), np.log(20.0)),
        method="bounded",
    )
    return float(np.exp(res.x))
