"""What runs the encoder: ONNX Runtime (served) or torch (reference and tests).

A backend is one method, ``__call__(input_ids, attention_mask) -> pooled`` on int64 numpy
arrays, returning float32 (batch, hidden). The scorer calls it from ``_forward`` only.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Protocol

import numpy as np


class Backend(Protocol):
    def __call__(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray: ...


def default_threads() -> int:
    env = os.environ.get("UNDERTOW_THREADS")
    return int(env) if env else max(1, os.cpu_count() or 1)


class OnnxBackend:
    """An ONNX Runtime session on the CPU, all graph optimizations on."""

    def __init__(self, path: Path, threads: int | None = None) -> None:
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.intra_op_num_threads = threads or default_threads()
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        self.path = Path(path)
        self.session = ort.InferenceSession(
            str(path), sess_options=opts, providers=["CPUExecutionProvider"]
        )

    def __call__(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        out = self.session.run(
            ["pooled"], {"input_ids": input_ids, "attention_mask": attention_mask}
        )[0]
        return np.asarray(out, dtype=np.float32)


class TorchBackend:
    """A torch ``PooledEncoder`` (fp32), run under ``inference_mode``."""

    def __init__(self, module: Any) -> None:
        self.module = module.eval()

    def __call__(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        import torch

        with torch.inference_mode():
            out = self.module(torch.from_numpy(input_ids), torch.from_numpy(attention_mask))
        return out.numpy().astype(np.float32, copy=False)
