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

import numpy as np

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


OUTLIER_FACTOR = 3.0  # an input channel is an outlier above this many times the median


def calibration_batches(artifacts: Path, batch: int = 32) -> list[dict[str, np.ndarray]]:
    """Token batches of the committed service texts (``service_seed.csv``): every text alone,
    and runs of consecutive texts joined into full windows, padded as the scorer pads."""
    import pandas as pd

    from nlp.sentiment import load_tokenizer
    from nlp.sentiment.data import SEED_FILE
    from nlp.sentiment.scorer import pad_batch

    tok = load_tokenizer(base_dir_of(artifacts))
    width = int(read_meta(artifacts).get("max_length", 128)) - 2
    texts = pd.read_csv(SEED_FILE)["text"].astype(str).tolist()
    texts += [" ".join(texts[i : i + 12]) for i in range(0, len(texts), 12)]
    ids = tok(texts, add_special_tokens=False, truncation=False, verbose=False)["input_ids"]
    rows = sorted(([tok.cls_token_id, *r[:width], tok.sep_token_id] for r in ids), key=len)
    out = []
    for s in range(0, len(rows), batch):
        input_ids, mask = pad_batch(rows[s : s + batch], tok.pad_token_id or 0)
        out.append({"input_ids": input_ids, "attention_mask": mask})
    return out


def smooth_outliers(fp32: Path, out: Path, batches: list[dict[str, np.ndarray]]) -> Path:
    """An fp32 graph equal to ``fp32`` whose MatMul inputs have no outlier channels.

    Dynamic int8 quantizes a MatMul's input with one scale per batch, so a few channels
    that run far larger than the rest (BERT's LayerNorm and GELU outputs have them) cost
    every other channel its precision. For each input shared by MatMuls with constant
    weights, the channels whose largest value on ``batches`` exceeds ``OUTLIER_FACTOR``
    times the median channel's are divided down to that level by an inserted ``Mul``, and
    the matching weight rows multiplied back (x W = (x / s)(s W)): the same function in
    fp32, half the int8 error on the held-out sets (benchmarks/RESULTS.md).
    """
    import onnx
    import onnxruntime as ort
    from onnx import helper, numpy_helper

    model = onnx.load(str(fp32))
    graph = model.graph
    weights = {i.name: i for i in graph.initializer}
    groups: dict[str, list[onnx.NodeProto]] = {}
    for node in graph.node:
        if node.op_type == "MatMul" and node.input[1] in weights:
            if len(weights[node.input[1]].dims) == 2 and node.input[0] not in weights:
                groups.setdefault(node.input[0], []).append(node)
    probe = onnx.ModelProto()
    probe.CopyFrom(model)
    for name in groups:
        probe.graph.output.append(helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, None))
    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    opts.log_severity_level = 3
    session = ort.InferenceSession(
        probe.SerializeToString(), sess_options=opts, providers=["CPUExecutionProvider"]
    )
    names = list(groups)
    peak = {name: np.zeros(0, np.float32) for name in names}
    for feed in batches:
        for name, x in zip(names, session.run(names, feed), strict=True):
            m = np.abs(x.reshape(-1, x.shape[-1])).max(axis=0)
            peak[name] = m if peak[name].size == 0 else np.maximum(peak[name], m)
    for k, (name, nodes) in enumerate(groups.items()):
        scale = np.maximum(1.0, peak[name] / (OUTLIER_FACTOR * np.median(peak[name])))
        if not (scale > 1.0).any():
            continue
        scale = scale.astype(np.float32)
        inverse = f"smooth_{k}_inverse_scale"
        graph.initializer.append(numpy_helper.from_array((1.0 / scale).astype(np.float32), inverse))
        for node in nodes:
            w = weights[node.input[1]]
            w.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(w) * scale[:, None], w.name))
            node.input[0] = f"{name}_smoothed"
        first = min(list(graph.node).index(n) for n in nodes)
        mul = helper.make_node("Mul", [name, inverse], [f"{name}_smoothed"], f"/smooth_{k}/Mul")
        graph.node.insert(first, mul)
    tmp = out.with_name(f"{out.stem}.{os.getpid()}.tmp.onnx")
    onnx.save(model, str(tmp))
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
        smoothed = folder / f"encoder.smoothed.{os.getpid()}.tmp.onnx"
        try:
            smooth_outliers(fp32, smoothed, calibration_batches(artifacts))
            quantize_int8(smoothed, int8)
        finally:
            smoothed.unlink(missing_ok=True)
    return int8
