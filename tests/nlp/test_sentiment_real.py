"""Behaviour of the committed sentiment model (real MiniLM weights, int8 ONNX as served)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from api.cli import cli
from ingest.settings import Settings
from nlp.sentiment import load_scorer
from nlp.sentiment.data import load_corpus, shared_data_dir
from nlp.sentiment.registry import ARTIFACTS_DIR, current_model_version

pytestmark = pytest.mark.real_model

if not (ARTIFACTS_DIR / "head.safetensors").exists():
    pytest.skip("no committed sentiment model", allow_module_level=True)


@pytest.fixture(scope="module")
def real_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    root = tmp_path_factory.mktemp("real")
    return Settings(database_url=f"sqlite:///{root / 'u.db'}", data_dir=root / "data")


@pytest.fixture(scope="module")
def scorer(real_settings: Settings):  # type: ignore[no-untyped-def]
    return load_scorer(real_settings)


@pytest.mark.parametrize(
    "text,label",
    [
        (
            "I've been billed three times for the same plan and nobody answers my emails.",
            "negative",
        ),
        ("Your app froze in the middle of our client demo. Embarrassing.", "negative"),
        ("Thank you so much, the new reporting view saved my team a full day!", "positive"),
        ("Fantastic onboarding call, everything is clear now. Great job.", "positive"),
        ("Can you tell me where to change the e-mail address for billing notices?", "neutral"),
        ("What is the deadline for sending you our purchase order number?", "neutral"),
    ],
)
def test_clear_service_texts(scorer, text: str, label: str) -> None:  # type: ignore[no-untyped-def]
    row = scorer.score_texts([text]).iloc[0]
    assert row["label"] == label, row.to_dict()
    assert row["model_version"] == scorer.model_version


def test_eval_on_held_out_uci_slice_beats_vader(
    real_settings: Settings,
    scorer,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    if not shared_data_dir().is_dir():
        pytest.skip("shared data not present")
    df = load_corpus()
    test = df[(df["split"] == "test") & df["source"].str.startswith("uci")].head(200)
    path = tmp_path / "uci.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["sentence", "y"])
        for text, label in zip(test["text"], test["label"], strict=True):
            w.writerow([text, 1 if label == 2 else 0])
    env = {
        "UNDERTOW_DATABASE_URL": real_settings.database_url,
        "UNDERTOW_DATA_DIR": str(real_settings.data_dir),
    }
    result = CliRunner().invoke(
        cli,
        ["eval", "sentiment", str(path), "--text-col", "sentence", "--label-col", "y", "--json"],
        env=env,
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["n"] == 200
    assert payload["model_version"] == current_model_version(real_settings)
    assert payload["accuracy"] >= 0.88
    assert payload["accuracy"] >= payload["baseline"]["accuracy"] + 0.10


def test_served_engine_agrees_with_fp32(real_settings: Settings, scorer) -> None:  # type: ignore[no-untyped-def]
    """The served int8 engine reads texts as the fp32 torch model does: same labels on
    clear texts, probabilities within a few points (the int8 cost is measured on the held-out
    sets in benchmarks/scoring.py)."""
    reference = load_scorer(real_settings, variant="torch-fp32")
    texts = [
        "The invoice was wrong twice and support never called back.",
        "Setup took five minutes and the dashboard is lovely.",
        "Please send the W-9 form to our accounts payable team.",
        "Sync has been failing since Tuesday; we lost a day of orders. " * 12,  # two windows
        "ok",
    ]
    cols = ["p_negative", "p_neutral", "p_positive"]
    got, ref = scorer.score_texts(texts), reference.score_texts(texts)
    assert got["label"].tolist() == ref["label"].tolist()
    assert got["n_chunks"].tolist() == ref["n_chunks"].tolist()
    assert abs(got[cols].to_numpy() - ref[cols].to_numpy()).max() < 0.08
