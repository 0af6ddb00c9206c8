"""A tiny random MiniLM-shaped model for the sentiment plumbing tests (built in-process).

The tokenizer is the real all-MiniLM-L6-v2 one (only its vocabulary files are read, no
weights); the encoder is a 2-block BERT with 32 hidden units and random weights, and the
head is random, so scores are meaningless but every code path (chunking, ONNX export,
int8 quantization, caching, CLI) runs in a second or two.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np

from nlp.encoder import base_model_path
from nlp.sentiment.model import Head

TOKENIZER_FILES = (
    "tokenizer.json",
    "tokenizer_config.json",
    "vocab.txt",
    "special_tokens_map.json",
)


def make_tiny_model(folder: Path, *, max_length: int = 16, seed: int = 0) -> Path:
    """Write a complete model folder (base encoder, head, meta.json) and return it."""
    import torch
    from transformers import BertConfig, BertModel

    torch.manual_seed(seed)
    base = folder / "base"
    base.mkdir(parents=True, exist_ok=True)
    cfg = BertConfig(
        vocab_size=30522,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=64,
    )
    BertModel(cfg).save_pretrained(base)
    src = Path(base_model_path())
    for name in TOKENIZER_FILES:
        if (src / name).exists():
            shutil.copy2(src / name, base / name)
    rng = np.random.default_rng(seed)
    Head(rng.normal(0, 3.0, (3, 32)).astype(np.float32), np.zeros(3, np.float32)).save(
        folder / "head.safetensors"
    )
    meta = {
        "name": "tiny",
        "serving": "onnx-int8",
        "max_length": max_length,
        "base_model": "base",
        "temperature": 1.0,
    }
    (folder / "meta.json").write_text(json.dumps(meta))
    return folder
