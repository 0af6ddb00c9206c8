"""Fixtures of the nlp tests: the tiny random sentiment model, made current in a store."""

from __future__ import annotations

from pathlib import Path

import pytest
from sentiment_tiny import make_tiny_model

from ingest.settings import Settings
from nlp.sentiment.registry import set_current


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_tiny_model(tmp_path_factory.mktemp("tiny") / "model")


@pytest.fixture
def tiny_settings(settings: Settings, tiny_model: Path) -> Settings:
    set_current(settings, tiny_model)
    return settings
