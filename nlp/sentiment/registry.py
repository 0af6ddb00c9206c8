"""Which sentiment model is current, and its version string.

The committed model lives in ``nlp/sentiment/artifacts/`` (LoRA adapter, head, meta.json
with the calibration temperature and serving variant). A model adapted to a customer's
own store (``undertow train sentiment --from-store``) is written under
``<data_dir>/sentiment/models/<version>/`` and made current by
``<data_dir>/sentiment/current.json``; the committed files are never overwritten.

The version is ``<name>-<sha256 of the weights, head, temperature and variant>[:10]``, so a
retrained or re-calibrated model gets a new version and stored scores of the old one are
never mistaken for it.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from ingest.settings import Settings
from nlp.sentiment.model import (
    ADAPTER_CONFIG,
    ADAPTER_FILE,
    EXPORT_RECIPE,
    HEAD_FILE,
    META_FILE,
    read_meta,
)

ARTIFACTS_DIR = Path(__file__).with_name("artifacts")
CURRENT_FILE = "current.json"


def sentiment_dir(settings: Settings) -> Path:
    return Path(settings.data_dir) / "sentiment"


def current_artifacts(settings: Settings) -> Path:
    """The folder of the current model: an adapted one if made current, else the committed."""
    pointer = sentiment_dir(settings) / CURRENT_FILE
    if pointer.exists():
        path = Path(json.loads(pointer.read_text())["path"])
        if (path / HEAD_FILE).exists():
            return path
    return ARTIFACTS_DIR


def set_current(settings: Settings, artifacts: Path | None) -> None:
    """Make ``artifacts`` the current model (``None``: back to the committed one)."""
    pointer = sentiment_dir(settings) / CURRENT_FILE
    if artifacts is None:
        pointer.unlink(missing_ok=True)
        return
    pointer.parent.mkdir(parents=True, exist_ok=True)
    pointer.write_text(json.dumps({"path": str(Path(artifacts).resolve())}))


def _digest(paths: list[Path], extra: dict[str, Any]) -> str:
    h = hashlib.sha256()
    for p in paths:
        if p.exists():
            h.update(p.name.encode())
            h.update(p.read_bytes())
    h.update(json.dumps(extra, sort_keys=True).encode())
    return h.hexdigest()


def encoder_key(artifacts: Path) -> str:
    """Identity of the encoder weights alone (base model + adapter): the export cache key."""
    meta = read_meta(artifacts)
    extra = {"base": meta.get("base_model") or "all-MiniLM-L6-v2"}
    return _digest([artifacts / ADAPTER_FILE, artifacts / ADAPTER_CONFIG], extra)[:16]


def serving_variant(meta: dict[str, Any]) -> str:
    return str(meta.get("serving", "onnx-int8"))


def model_version(artifacts: Path) -> str:
    meta = read_meta(artifacts)
    extra = {
        "temperature": meta.get("temperature", 1.0),
        "variant": serving_variant(meta),
        "recipe": EXPORT_RECIPE,
        "base": meta.get("base_model") or "all-MiniLM-L6-v2",
        "max_length": meta.get("max_length"),
    }
    files = [artifacts / ADAPTER_FILE, artifacts / ADAPTER_CONFIG, artifacts / HEAD_FILE]
    name = meta.get("name", "minilm-lora")
    return f"{name}-{_digest(files, extra)[:10]}"


def current_model_version(settings: Settings) -> str:
    """The version ``undertow score`` would write now (no model is loaded)."""
    return model_version(current_artifacts(settings))


__all__ = [
    "ARTIFACTS_DIR",
    "META_FILE",
    "current_artifacts",
    "current_model_version",
    "encoder_key",
    "model_version",
    "set_current",
    "sentiment_dir",
]
