"""Build the served encoder locally: merge the adapter, export to ONNX, quantize to int8.

Nothing big is committed: the ONNX files are derived from the packaged base weights and
the committed adapter, and cached under ``<data_dir>/sentiment/onnx/<encoder key>/``. A
missing file is rebuilt on first use (about half a minute for MiniLM); files are written
to a temporary name and renamed, so a crash never leaves a half-written model behind.

Variants (``meta.json`` ``serving``): ``onnx-int8`` (dynamic int8 with per-channel weight
scales on the MatMuls, what Undertow serves: measured fastest within 1 point of accuracy, see
benchmarks/RESULTS.md), ``onnx-fp32`` and ``torch-fp32`` (reference). Both ONNX files are
exported with eager attention and named by ``EXPORT_RECIPE``, so a change of recipe
rebuilds them instead of reusing an older export.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

from ingest.settings import Settings
from nlp.sentiment.model import EXPORT_RECIPE, build_encoder, read_meta
from nlp.sentiment.registry import encoder_key, sentiment_dir, serving_variant

OPSET = 17


def base_dir_of(artifacts: Path) -> str | None:
    """The base encoder folder named by meta.json (tests use tiny ones); None = the package."""
    base = read_meta(artifacts).get("base_model")
    if not base:
        return None
    path = Path(base)
    return str(path if path.is_absolute() else (artifacts / path).resolve())


def export_onnx(artifacts: Path, out: Path) -> Path:
    """fp32 ONNX of the merged encoder: (input_ids, attention_mask) -> pooled."""
    import torch

    module = build_encoder(artifacts, base_dir_of(artifacts))
    # Eager attention exports as MatMul -> Add(mask) -> Softmax -> MatMul with the additive
    # mask built once. The SDPA path (transformers' default) exported a boolean-to-additive
    # Where and a NaN guard (IsNaN + Where) in every layer: 16% of the int8 graph's time.
    module.bert.set_attn_implementation("eager")
    ids = torch.ones((2, 8), dtype=torch.long)
    mask = torch.ones_like(ids)
    tmp = out.with_name(f"{out.stem}.{os.getpid()}.tmp.onnx")  # concurrent builders never collide
    axes = {"batch": 0, "tokens": 1}
    with warnings.catch_warnings(), torch.inference_mode():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            module,
            (ids, mask),
            str(tmp),
            dynamo=False,
            input_names=["input_ids", "attention_mask"],
            output_names=["pooled"],
            dynamic_axes={
                "input_ids": {v: k for k, v in axes.items()},
                "attention_mask": {v: k for k, v in axes.items()},
                "pooled": {0: "batch"},
            },
            opset_version=OPSET,
        )
    os.replace(tmp, out)
    return out


def quantize_int8(fp32: Path, out: Path) -> Path:
    """Dynamic int8 quantization of the MatMul weights, one scale per output channel
    (activations quantized per batch). Per-channel scales kept the held-out UCI accuracy
    within 0.9 points of fp32, per-tensor scales and a BERT-fused graph lost 1.2-1.4."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    tmp = out.with_name(f"{out.stem}.{os.getpid()}.tmp.onnx")
    import onnx

    quantize_dynamic(
        str(fp32),
        str(tmp),
        weight_type=QuantType.QInt8,
        per_channel=True,
        op_types_to_quantize=["MatMul"],
        extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
    )
    os.replace(tmp, out)
    return out


def ensure_onnx(artifacts: Path, settings: Settings, variant: str | None = None) -> Path:
    """Path of the ONNX encoder for ``artifacts`` in ``variant``; built when missing."""
    variant = variant or serving_variant(read_meta(artifacts))
    folder = sentiment_dir(settings) / "onnx" / encoder_key(artifacts)
    folder.mkdir(parents=True, exist_ok=True)
    fp32 = folder / f"encoder.fp32.{EXPORT_RECIPE}.onnx"
    if not fp32.exists():
        export_onnx(artifacts, fp32)
        for stale in folder.glob("encoder.*.onnx"):  # exports of an older recipe
            if not stale.name.endswith(f".{EXPORT_RECIPE}.onnx") and ".tmp." not in stale.name:
                stale.unlink(missing_ok=True)
    if variant == "onnx-fp32":
        return fp32
    int8 = folder / f"encoder.int8.{EXPORT_RECIPE}.onnx"
    if not int8.exists():
        quantize_int8(fp32, int8)
    return int8
