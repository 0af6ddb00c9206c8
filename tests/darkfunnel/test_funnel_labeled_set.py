"""The labeled evaluation set and the classifier's accuracy on its test split."""

from __future__ import annotations

import pandas as pd
import pytest

from nlp.channels import CHANNELS
from nlp.channels.evaluate import evaluate, read_labeled
from nlp.channels.head import HEAD_PATH, LABELED_PATH, load_head


def test_labeled_set_is_large_varied_and_split() -> None:
    df = pd.read_csv(LABELED_PATH, keep_default_na=False, dtype=str)
    assert len(df) >= 500
    assert set(df["split"]) == {"dev", "test"}
    assert (df["split"] == "test").sum() >= 200
    labels = {c for v in df["channels"] for c in v.split("|")}
    assert labels == set(CHANNELS)
    assert {"multi", "non_english", "short"} <= set(df["style"])
    # no answer is in both splits (case-insensitive)
    dev = set(df.loc[df["split"] == "dev", "answer"].str.strip().str.lower())
    test = set(df.loc[df["split"] == "test", "answer"].str.strip().str.lower())
    assert not dev & test


def test_committed_head_is_small_and_complete() -> None:
    assert HEAD_PATH.stat().st_size < 2_000_000
    head = load_head()
    assert head.classes == CHANNELS and head.coef.shape == (12, 384)
    assert head.card["rebuild"] == "undertow train channels"


@pytest.mark.real_model
def test_accuracy_on_test_split_meets_the_bar() -> None:
    result = evaluate(read_labeled(LABELED_PATH, "test"))
    assert result["n"] >= 200
    assert result["accuracy"] >= 0.92, result["errors"]
