"""The sentiment network: the MiniLM encoder, mean pooling, and a 3-class linear head.

The committed model is the packaged all-MiniLM-L6-v2 weights plus a LoRA adapter (small
enough to commit) and the head. ``build_encoder`` loads the base weights, applies the
adapter and merges it, so the served network is a plain BERT with no adapter overhead.

The network is split in two on purpose: ``PooledEncoder`` (token ids -> one pooled vector
per text, what is exported to ONNX and quantized) and ``Head`` (a linear layer applied in
numpy after pooling). Long texts are cut into windows whose pooled vectors are averaged
before the head (see ``scorer``); refitting the head on a customer's own labels
(``undertow train sentiment --from-store``) needs no new export.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

ADAPTER_FILE = "adapter.safetensors"
ADAPTER_CONFIG = "adapter_config.json"
HEAD_FILE = "head.safetensors"
META_FILE = "meta.json"
# The export recipe (export.py: eager-attention graph, outlier channels smoothed, per-channel
# dynamic int8); part of the model version and of the exported files' names.
EXPORT_RECIPE = "eager-oc3-pc1"
TRAINED_LAYERS = (3, 4, 5)  # LoRA on the top three of six blocks; the bottom stays frozen
LORA_TARGETS = r".*encoder\.layer\.(3|4|5)\..*(query|key|value|dense)"


def mean_pool(hidden: Any, mask: Any) -> Any:
    """Mean of the token states over the attention mask (torch tensors)."""
    m = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)


def pooled_encoder_class() -> type:
    """``PooledEncoder`` is defined lazily so that importing this module needs no torch."""
    import torch

    class PooledEncoder(torch.nn.Module):
        """(input_ids, attention_mask) -> (batch, hidden) mean-pooled token states."""

        def __init__(self, bert: Any) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            out = self.bert(
                input_ids=input_ids,
                attention_mask=attention_mask,
                token_type_ids=torch.zeros_like(input_ids),
            )
            return mean_pool(out.last_hidden_state, attention_mask)

    return PooledEncoder


def lora_config(r: int = 16, alpha: int = 32, dropout: float = 0.0) -> Any:
    from peft import LoraConfig

    return LoraConfig(r=r, lora_alpha=alpha, lora_dropout=dropout, target_modules=LORA_TARGETS)


def load_base_bert(model_dir: str | None = None) -> Any:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from transformers import AutoModel

    from nlp.encoder import base_model_path

    return AutoModel.from_pretrained(model_dir or base_model_path())


def build_encoder(artifacts: Path, base_dir: str | None = None) -> Any:
    """The base encoder with the committed LoRA adapter merged in (eval mode, fp32)."""
    bert = load_base_bert(base_dir)
    adapter = artifacts / ADAPTER_FILE
    if adapter.exists():
        from peft import LoraConfig, get_peft_model, set_peft_model_state_dict
        from safetensors.torch import load_file

        cfg = json.loads((artifacts / ADAPTER_CONFIG).read_text())
        peft_model = get_peft_model(bert, LoraConfig(**cfg))
        set_peft_model_state_dict(peft_model, load_file(str(adapter)))
        bert = peft_model.merge_and_unload()
    return pooled_encoder_class()(bert).eval()


@dataclass(frozen=True)
class Head:
    """Linear 3-class head on the pooled vector, with its calibration temperature."""

    weight: np.ndarray  # (3, hidden)
    bias: np.ndarray  # (3,)
    temperature: float = 1.0

    def logits(self, pooled: np.ndarray) -> np.ndarray:
        return (pooled @ self.weight.T + self.bias) / self.temperature

    def probabilities(self, pooled: np.ndarray) -> np.ndarray:
        z = self.logits(pooled)
        z = z - z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)

    def save(self, path: Path) -> None:
        from safetensors.numpy import save_file

        save_file(
            {
                "weight": np.ascontiguousarray(self.weight, dtype=np.float32),
                "bias": np.ascontiguousarray(self.bias, dtype=np.float32),
            },
            str(path),
        )

    @classmethod
    def load(cls, path: Path, temperature: float = 1.0) -> Head:
        from safetensors.numpy import load_file

        z = load_file(str(path))
        return cls(z["weight"], z["bias"], temperature)


def read_meta(artifacts: Path) -> dict[str, Any]:
    path = artifacts / META_FILE
    return json.loads(path.read_text()) if path.exists() else {}
