"""Scoring the store and the sentiment CLI, on a tiny random model (plumbing only)."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, func, insert, select

from api.cli import cli
from ingest.db.schema import documents, sentiment_scores
from ingest.settings import Settings
from nlp import scoring
from nlp.sentiment import load_scorer
from nlp.sentiment.registry import ARTIFACTS_DIR, current_model_version, model_version, set_current

SCORE_KEYS = {"scored", "cached", "model_version", "texts_per_second"}
EVAL_KEYS = {
    "n",
    "accuracy",
    "macro_f1",
    "per_class",
    "baseline",
    "model_version",
    "texts_per_second",
}


def add_documents(engine: Engine, texts: list[str], ratings: list[float] | None = None) -> None:
    rows = []
    for i, text in enumerate(texts):
        h = hashlib.sha256(text.encode()).hexdigest()
        rows.append(
            {
                "kind": "review",
                "source": "test",
                "source_id": f"r{i}",
                "created_at": datetime(2025, 1, 1),
                "text": text,
                "text_hash": h,
                "content_hash": hashlib.sha256(f"{i}{text}".encode()).hexdigest(),
                "text_chars": len(text),
                "truncated": False,
                "rating": ratings[i] if ratings else None,
                "source_file": "test.csv",
                "source_line": i + 2,
                "row_hash": h,
            }
        )
    with engine.begin() as conn:
        conn.execute(insert(documents), rows)


def stored_scores(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(sentiment_scores)).scalar_one())


def test_current_model_is_the_tiny_one(tiny_settings: Settings, tiny_model: Path) -> None:
    assert current_model_version(tiny_settings) == model_version(tiny_model)
    set_current(tiny_settings, None)
    assert current_model_version(tiny_settings) == model_version(ARTIFACTS_DIR)


def test_score_store_never_scores_a_text_twice(engine: Engine, tiny_settings: Settings) -> None:
    texts = [f"text number {i} about invoices" for i in range(10)]
    add_documents(engine, texts + [texts[0]])  # a duplicate text shares its hash
    first = scoring.score_store(engine, tiny_settings)
    assert first["scored"] == 10 and first["cached"] == 0
    assert first["model_version"] == current_model_version(tiny_settings)
    second = scoring.score_store(engine, tiny_settings)
    assert second["scored"] == 0 and second["cached"] == 10
    assert stored_scores(engine) == 10


class Crash(RuntimeError):
    pass


def test_a_crash_keeps_finished_batches_and_a_rerun_resumes(
    engine: Engine, tiny_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(scoring, "COMMIT_BATCH", 4)
    add_documents(engine, [f"ticket {i}: the sync is slow" for i in range(10)])
    scorer = load_scorer(tiny_settings)
    calls = {"n": 0}
    real = scorer.score_texts

    def flaky(texts: list[str]):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 2:
            raise Crash("power cut")
        return real(texts)

    monkeypatch.setattr(scorer, "score_texts", flaky)
    with pytest.raises(Crash):
        scoring.score_store(engine, tiny_settings, scorer=scorer)
    assert stored_scores(engine) == 4  # the first batch was committed
    resumed = scoring.score_store(engine, tiny_settings)
    assert resumed["scored"] == 6 and resumed["cached"] == 4
    assert stored_scores(engine) == 10


def test_score_command_json(
    engine: Engine, tiny_settings: Settings, cli_env: dict[str, str]
) -> None:
    add_documents(engine, ["great support", "the export is broken", "how do I add seats?"])
    result = CliRunner().invoke(cli, ["score", "--json"], env=cli_env)
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert SCORE_KEYS <= payload.keys()
    assert payload["scored"] == 3 and payload["cached"] == 0
    assert payload["aspects"]["tagged"] == 3  # score also tags aspects ...
    assert payload["channels"]["classified"] == 0  # ... and classifies attribution answers
    again = json.loads(CliRunner().invoke(cli, ["score", "--json"], env=cli_env).stdout)
    assert again["scored"] == 0 and again["cached"] == 3
    assert again["aspects"]["tagged"] == 0 and again["aspects"]["cached"] == 3
    only = CliRunner().invoke(cli, ["score", "--sentiment-only", "--json"], env=cli_env)
    assert "aspects" not in json.loads(only.stdout)


def write_csv(path: Path, rows: list[tuple[str, str]], header: str = "text,label") -> Path:
    path.write_text(header + "\n" + "\n".join(f'"{t}",{lab}' for t, lab in rows) + "\n")
    return path


@pytest.mark.parametrize(
    "labels",
    [("negative", "neutral", "positive"), ("neg", "neu", "pos"), ("-1", "0", "1"), ("0", "1", "1")],
)
def test_eval_command_json_for_every_label_scheme(
    tiny_settings: Settings, cli_env: dict[str, str], tmp_path: Path, labels: tuple[str, ...]
) -> None:
    rows = [
        ("awful outage again", labels[0]),
        ("where is the invoice", labels[1]),
        ("thanks, works great", labels[2]),
    ] * 3
    csv = write_csv(tmp_path / "labeled.csv", rows)
    result = CliRunner().invoke(cli, ["eval", "sentiment", str(csv), "--json"], env=cli_env)
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert EVAL_KEYS <= payload.keys()
    assert {"n", "accuracy", "macro_f1", "per_class"} <= payload["baseline"].keys()
    assert payload["n"] == 9
    expected = {"negative", "positive"} if labels[0] == "0" else {"negative", "neutral", "positive"}
    assert set(payload["per_class"]) == expected == set(payload["baseline"]["per_class"])


def test_eval_command_custom_columns_and_input_errors(
    tiny_settings: Settings, cli_env: dict[str, str], tmp_path: Path
) -> None:
    csv = write_csv(tmp_path / "c.csv", [("good", "pos"), ("bad", "neg")], header="body,y")
    ok = CliRunner().invoke(
        cli,
        ["eval", "sentiment", str(csv), "--text-col", "body", "--label-col", "y", "--json"],
        env=cli_env,
    )
    assert ok.exit_code == 0, ok.output
    missing = CliRunner().invoke(cli, ["eval", "sentiment", str(csv), "--json"], env=cli_env)
    assert missing.exit_code == 2 and "column 'text'" in missing.output
    bad = write_csv(tmp_path / "bad.csv", [("good", "great"), ("bad", "meh")])
    unknown = CliRunner().invoke(cli, ["eval", "sentiment", str(bad)], env=cli_env)
    assert unknown.exit_code == 2 and "unknown sentiment labels" in unknown.output
    absent = CliRunner().invoke(cli, ["eval", "sentiment", str(tmp_path / "nope.csv")], env=cli_env)
    assert absent.exit_code == 2


def test_train_from_store_saves_a_new_version(
    engine: Engine, tiny_settings: Settings, cli_env: dict[str, str], tiny_model: Path
) -> None:
    words = {1: "terrible broken useless", 3: "okay average fine", 5: "excellent love great"}
    texts, ratings = [], []
    for i in range(90):
        stars = (1, 3, 5)[i % 3]
        texts.append(f"{words[stars]} review {i}")
        ratings.append(float(stars))
    add_documents(engine, texts, ratings)
    committed = (tiny_model / "head.safetensors").read_bytes()
    result = CliRunner().invoke(cli, ["train", "sentiment", "--from-store", "--json"], env=cli_env)
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["labeled"] == 90 and payload["held_out"] + payload["train"] == 90
    assert {"accuracy", "macro_f1"} <= payload["before"].keys() & payload["after"].keys()
    assert payload["model_version"] != payload["parent_model_version"]
    assert Path(payload["path"]).is_relative_to(tiny_settings.data_dir)
    assert (tiny_model / "head.safetensors").read_bytes() == committed  # the parent is untouched
    if payload["activated"]:
        assert current_model_version(tiny_settings) == payload["model_version"]


def test_train_from_store_without_labels_is_an_input_error(
    tiny_settings: Settings, cli_env: dict[str, str]
) -> None:
    result = CliRunner().invoke(cli, ["train", "sentiment", "--from-store"], env=cli_env)
    assert result.exit_code == 2 and "weak labels" in result.output
