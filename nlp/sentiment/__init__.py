"""Three-class sentiment of customer text (negative / neutral / positive), calibrated.

``load_scorer(settings)`` returns a ``SentimentScorer`` for the current model: the
packaged MiniLM encoder with the committed LoRA adapter merged in, exported to ONNX and
quantized to int8 under ``settings.data_dir`` (built on first use), and a temperature-
calibrated linear head. ``current_model_version(settings)`` names it without loading it.
See ``artifacts/MODEL_CARD.md`` for data, split, metrics and limits.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ingest.settings import Settings
from nlp.sentiment.registry import current_artifacts, current_model_version, model_version
from nlp.sentiment.scorer import LABELS, SentimentScorer

__all__ = ["LABELS", "SentimentScorer", "current_model_version", "load_scorer", "scorer_for"]


def load_tokenizer(base_dir: str | None) -> Any:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from transformers import AutoTokenizer

    from nlp.encoder import base_model_path

    return AutoTokenizer.from_pretrained(base_dir or base_model_path())


def load_scorer(
    settings: Settings,
    *,
    variant: str | None = None,
    batch_size: int = 32,
    parts: int | None = None,
) -> SentimentScorer:
    """The scorer of the current model in its serving variant (or ``variant``:
    ``onnx-int8``, ``onnx-fp32``, ``torch-fp32``). ``parts``: how many parts an ONNX
    batch is split into (default: one per thread; see ``backends.OnnxBackend``)."""
    return scorer_for(
        current_artifacts(settings), settings, variant=variant, batch_size=batch_size, parts=parts
    )


def scorer_for(
    artifacts: Path,
    settings: Settings,
    *,
    variant: str | None = None,
    batch_size: int = 32,
    parts: int | None = None,
) -> SentimentScorer:
    """The scorer of the model in ``artifacts`` (exports cached under settings.data_dir)."""
    from nlp.sentiment.backends import OnnxBackend, TorchBackend
    from nlp.sentiment.export import base_dir_of, ensure_onnx
    from nlp.sentiment.model import HEAD_FILE, Head, build_encoder, read_meta
    from nlp.sentiment.registry import serving_variant

    meta = read_meta(artifacts)
    served = serving_variant(meta)
    variant = variant or served
    temperature = float(meta.get("temperature", 1.0))
    if variant != served:  # the temperature was fitted on the served variant only
        temperature = float(meta.get("temperatures", {}).get(variant, temperature))
    head = Head.load(artifacts / HEAD_FILE, temperature)
    base = base_dir_of(artifacts)
    backend: Any
    if variant == "torch-fp32":
        backend = TorchBackend(build_encoder(artifacts, base))
    else:
        backend = OnnxBackend(ensure_onnx(artifacts, settings, variant), parts=parts)
    version = model_version(artifacts)
    if variant != served:
        version = f"{version}-{variant}"
    return SentimentScorer(
        load_tokenizer(base),
        backend,
        head,
        version,
        max_length=int(meta.get("max_length", 128)),
        batch_size=batch_size,
    )
