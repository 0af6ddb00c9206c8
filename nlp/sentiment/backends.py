"""What runs the encoder: ONNX Runtime (served) or torch (reference and tests).

A backend is one method, ``__call__(input_ids, attention_mask) -> pooled`` on int64 numpy
arrays, returning float32 (batch, hidden). The scorer calls it from ``_forward`` only.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Protocol

import numpy as np


class Backend(Protocol):
    def __call__(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray: ...


def default_threads() -> int:
    env = os.environ.get("UNDERTOW_THREADS")
    return int(env) if env else max(1, os.cpu_count() or 1)


# ORT's CPU SkipLayerNormalization kernel measured several times slower than its
# LayerNormalization on the int8 MiniLM graph (15% of a batch's time); without this fusion
# the residual Add and LayerNormalization run as two fast kernels (benchmarks/RESULTS.md).
DISABLED_FUSIONS = ("SkipLayerNormFusion",)


class OnnxBackend:
    """An ONNX Runtime session on the CPU, graph optimizations on (less the slow fusions).

    A batch is split into up to ``parts`` parts (default: ``threads``), and up to
    ``threads`` of them run at the same time, each on one core (the session has one
    intra-op thread; ``run`` is thread-safe and releases the GIL). Measured faster than one
    run spread over the cores by ORT's intra-op threads: no synchronisation inside every
    operator, and each part's activations stay in its core's cache. Each part drops the
    columns that are padding in all of its rows.

    The int8 model quantizes each part's activations with one scale per tensor, so a
    text's score depends on the part it was run in: Ray workers of one core keep the
    driver's ``parts`` (and run them one after another) to score exactly as this machine's
    local engine does (benchmarks/RESULTS.md, "Scale-out").
    """

    def __init__(self, path: Path, threads: int | None = None, parts: int | None = None) -> None:
        import onnxruntime as ort

        self.threads = max(1, threads or default_threads())
        self.parts = max(1, parts or self.threads)
        opts = ort.SessionOptions()
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        self.path = Path(path)
        self.session = ort.InferenceSession(
            str(path),
            sess_options=opts,
            providers=["CPUExecutionProvider"],
            disabled_optimizers=list(DISABLED_FUSIONS),
        )
        self._pool: ThreadPoolExecutor | None = None

    def _run(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        used = np.flatnonzero(attention_mask.any(axis=0))  # columns padding in every row go
        width = int(used[-1]) + 1 if used.size else 1
        feed = {
            "input_ids": np.ascontiguousarray(input_ids[:, :width]),
            "attention_mask": np.ascontiguousarray(attention_mask[:, :width]),
        }
        return np.asarray(self.session.run(["pooled"], feed)[0], dtype=np.float32)

    def __call__(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        parts = min(self.parts, len(input_ids))
        if parts <= 1:
            return self._run(input_ids, attention_mask)
        bounds = np.linspace(0, len(input_ids), parts + 1).astype(int)
        pieces = list(zip(bounds[:-1], bounds[1:], strict=True))
        if self.threads == 1:
            return np.concatenate(
                [self._run(input_ids[a:b], attention_mask[a:b]) for a, b in pieces]
            )
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="undertow-onnx")
        futures = [
            self._pool.submit(self._run, input_ids[a:b], attention_mask[a:b]) for a, b in pieces
        ]
        return np.concatenate([f.result() for f in futures])


class TorchBackend:
    """A torch ``PooledEncoder`` (fp32), run under ``inference_mode``."""

    def __init__(self, module: Any) -> None:
        self.module = module.eval()

    def __call__(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        import torch

        with torch.inference_mode():
            out = self.module(torch.from_numpy(input_ids), torch.from_numpy(attention_mask))
        return out.numpy().astype(np.float32, copy=False)
